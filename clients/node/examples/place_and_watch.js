#!/usr/bin/env node
'use strict';
/**
 * Places an order (market, or limit when LIMIT is given) and reads the event stream until its fill
 * arrives; prints JSON lines.
 *
 *   IBKR_API_URL=127.0.0.1:50051 IBKR_API_KEY=... node examples/place_and_watch.js [SYMBOL] [QTY] [SIDE] [LIMIT]
 *
 * Exit 0 once the fill is seen; 1 on an error (printed as {"error": ...}) or after IBKR_TIMEOUT_SECONDS
 * (default 60) without a fill.
 */

const crypto = require('crypto');
const { createClient, decimal, apiKeyFromEnv } = require('..');

function print(object) {
  process.stdout.write(`${JSON.stringify(object)}\n`);
}

async function main() {
  const [symbol = 'AAPL', quantity = '1', side = 'BUY', limit] = process.argv.slice(2);
  const timeoutSeconds = Number(process.env.IBKR_TIMEOUT_SECONDS || 60);
  const client = createClient({ apiKey: apiKeyFromEnv() });
  const clientOrderId = `node-${crypto.randomUUID().replace(/-/g, '')}`;
  const timer = setTimeout(() => {
    print({ error: { message: `no fill for ${clientOrderId} within ${timeoutSeconds}s` } });
    process.exit(1);
  }, timeoutSeconds * 1000);
  try {
    // Subscribe first and wait for the first frame, so the fill cannot slip past before we listen.
    const stream = client.streamEvents({
      account_id: process.env.IBKR_ACCOUNT_ID || '',
      event_types: ['EVENT_TYPE_ORDER_UPDATE', 'EVENT_TYPE_FILL'],
    });
    await stream.next();
    const { order } = await client.unary('trading', 'PlaceOrder', {
      account_id: process.env.IBKR_ACCOUNT_ID || '',
      client_order_id: clientOrderId,
      order: {
        instrument: { symbol, security_type: 'SECURITY_TYPE_STOCK', exchange: 'SMART', currency: 'USD' },
        side: `ORDER_SIDE_${side.toUpperCase()}`,
        quantity: decimal(quantity),
        order_type: limit ? 'ORDER_TYPE_LIMIT' : 'ORDER_TYPE_MARKET',
        limit_price: limit ? decimal(limit) : undefined,
        time_in_force: 'TIME_IN_FORCE_DAY',
      },
    });
    print({ placed: order });
    for await (const frame of stream) {
      const event = frame.event;
      if (!event) continue;
      if (event.order_update && event.order_update.order.client_order_id === clientOrderId) {
        print({ order_update: event.order_update.order });
        const status = event.order_update.order.status;
        if (['ORDER_STATUS_REJECTED', 'ORDER_STATUS_CANCELLED', 'ORDER_STATUS_EXPIRED'].includes(status)) {
          throw new Error(`order ended ${status} without a fill`);
        }
      }
      if (event.fill && event.fill.client_order_id === clientOrderId) {
        print({ fill: event.fill });
        break;
      }
    }
    clearTimeout(timer);
    client.close();
    return 0;
  } catch (error) {
    print({ error: { message: error.message, code: error.codeName, reason: error.reason, metadata: error.metadata } });
    clearTimeout(timer);
    client.close();
    return 1;
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    print({ error: { message: error.message } });
    process.exit(1);
  },
);
