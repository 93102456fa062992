'use strict';
/**
 * A small Node client of the IBKR Local API, generated at runtime from the repository's protos with
 * @grpc/proto-loader (no generated code is committed). One channel carries every service; the API key
 * goes on every call as `authorization: Bearer <key>`; retries happen only on UNAVAILABLE, through the
 * channel's service config; errors carry the google.rpc.Status ErrorInfo reason and metadata.
 *
 *   const { createClient } = require('./clients/node');
 *   const client = createClient({ target: '127.0.0.1:50051', apiKey });
 *   const { order } = await client.unary('trading', 'PlaceOrder', { client_order_id, order: spec });
 *   for await (const frame of client.streamEvents({ event_types: ['EVENT_TYPE_FILL'] })) { ... }
 */

const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');

const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** Where the protos are: ours, and the googleapis ones (`python -m tools.gen_protos --deps-only`). */
function defaultIncludeDirs() {
  return [path.join(REPO_ROOT, 'protos'), path.join(REPO_ROOT, '.build', 'proto-deps')];
}

const EDGE_PROTOS = [
  'ibkr/edge/v1/trading_service.proto',
  'ibkr/edge/v1/portfolio_service.proto',
  'ibkr/edge/v1/market_data_service.proto',
  'ibkr/edge/v1/event_service.proto',
  'ibkr/edge/v1/admin_service.proto',
];

/** The stub constructors, by the name the client exposes them under. */
const SERVICES = {
  trading: 'TradingService',
  portfolio: 'PortfolioService',
  marketData: 'MarketDataService',
  events: 'EventService',
  admin: 'AdminService',
};

/**
 * Whether a stream that ended with `error` should resume with its last token: the edge went away
 * (UNAVAILABLE), or it cut a reader that fell behind (RESOURCE_EXHAUSTED once frames had flowed, reason
 * SUBSCRIBER_TOO_SLOW). A RESOURCE_EXHAUSTED refusal at the start (rate limit, stream cap) is raised.
 */
function isResumable(error, framesReceived) {
  if (error.code === grpc.status.UNAVAILABLE) return true;
  return error.code === grpc.status.RESOURCE_EXHAUSTED
    && (error.reason === 'SUBSCRIBER_TOO_SLOW' || framesReceived > 0);
}

/** The service config: retry UNAVAILABLE (only) on every public service. */
function serviceConfig({ maxAttempts = 5, initialBackoff = '0.1s', maxBackoff = '2s' } = {}) {
  return {
    methodConfig: [{
      name: Object.values(SERVICES).map((s) => ({ service: `ibkr.edge.v1.${s}` })),
      retryPolicy: {
        maxAttempts, initialBackoff, maxBackoff, backoffMultiplier: 2, retryableStatusCodes: ['UNAVAILABLE'],
      },
    }],
  };
}

/**
 * A decimal for the wire (google.type.Decimal): a string or a bigint. Numbers are refused: JavaScript
 * numbers are binary floating point, and `0.1` is not one tenth.
 */
function decimal(value) {
  if (typeof value === 'bigint') return { value: value.toString() };
  if (typeof value !== 'string') {
    throw new TypeError(`decimal: pass a string such as "1.5" (or a bigint), not ${typeof value} ${value}`);
  }
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value)) throw new RangeError(`not a decimal: ${value}`);
  return { value };
}

/** Reads google.rpc.Status details (ErrorInfo, BadRequest) out of an error's trailers. */
function statusDetailsDecoder(includeDirs) {
  const root = new protobuf.Root();
  root.resolvePath = (origin, target) => {
    for (const dir of includeDirs) {
      const candidate = path.join(dir, target);
      if (fs.existsSync(candidate)) return candidate;
    }
    return protobuf.util.path.resolve(origin, target);
  };
  root.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto'], { keepCase: true });
  const Status = root.lookupType('google.rpc.Status');
  return (error) => {
    const raw = error.metadata && error.metadata.get('grpc-status-details-bin')[0];
    if (!raw) return {};
    const status = Status.decode(raw);
    const out = {};
    for (const any of status.details) {
      const typeName = any.type_url.slice(any.type_url.lastIndexOf('/') + 1);
      const type = root.lookupType(typeName);
      const detail = type.toObject(type.decode(any.value), { longs: String, enums: String });
      if (typeName === 'google.rpc.ErrorInfo') Object.assign(out, { reason: detail.reason, domain: detail.domain, metadata: detail.metadata || {} });
      if (typeName === 'google.rpc.BadRequest') out.fieldViolations = detail.field_violations || [];
    }
    return out;
  };
}

/** An Error with the gRPC `code`, its name (`codeName`), the ErrorInfo `reason`, `metadata`, violations. */
class IbkrError extends Error {
  constructor(error, details) {
    const codeName = Object.keys(grpc.status).find((k) => grpc.status[k] === error.code) || String(error.code);
    super(`${codeName}: ${details.reason ? `${details.reason}: ` : ''}${error.details}`);
    this.name = 'IbkrError';
    this.code = error.code;
    this.codeName = codeName;
    this.reason = details.reason || codeName;
    this.domain = details.domain || '';
    this.metadata = details.metadata || {};
    this.fieldViolations = details.fieldViolations || [];
  }
}

/**
 * Creates a client. Options: `target` (host:port, default IBKR_API_URL or 127.0.0.1:50051), `apiKey`,
 * `tls` ({ ca, cert, key } PEM Buffers; cert+key for mutual TLS), `includeDirs` (proto include dirs),
 * `deadlineMs` (unary deadline, default 10000), `retry` (service-config retry parameters).
 */
function createClient(options = {}) {
  const target = options.target || process.env.IBKR_API_URL || '127.0.0.1:50051';
  const includeDirs = options.includeDirs || defaultIncludeDirs();
  const deadlineMs = options.deadlineMs || 10000;
  const definition = protoLoader.loadSync(EDGE_PROTOS, {
    keepCase: true, longs: String, enums: String, defaults: false, oneofs: true, includeDirs,
  });
  const api = grpc.loadPackageDefinition(definition).ibkr.edge.v1;
  const credentials = options.tls
    ? grpc.credentials.createSsl(options.tls.ca || null, options.tls.key || null, options.tls.cert || null)
    : grpc.credentials.createInsecure();
  const channelOptions = {
    'grpc.enable_retries': 1,
    'grpc.service_config': JSON.stringify(serviceConfig(options.retry)),
  };
  const channel = new grpc.Channel(target, credentials, channelOptions);
  const apiKey = options.apiKey;
  const authorize = (callOptions, nextCall) => new grpc.InterceptingCall(nextCall(callOptions), {
    start(metadata, listener, next) {
      if (apiKey) metadata.set('authorization', `Bearer ${apiKey}`);
      next(metadata, listener);
    },
  });
  const decodeDetails = statusDetailsDecoder(includeDirs);
  const toError = (error) => (error && error.code !== undefined ? new IbkrError(error, decodeDetails(error)) : error);

  const stubs = {};
  for (const [name, service] of Object.entries(SERVICES)) {
    stubs[name] = new api[service](target, credentials, { channelOverride: channel, interceptors: [authorize] });
  }

  /** Calls a unary method; resolves with the response or rejects with an IbkrError. */
  function unary(service, method, request, { deadline } = {}) {
    return new Promise((resolve, reject) => {
      const callDeadline = deadline || new Date(Date.now() + deadlineMs);
      stubs[service][method](request, { deadline: callDeadline }, (error, response) => {
        if (error) reject(toError(error));
        else resolve(response);
      });
    });
  }

  /**
   * StreamEvents frames as an async iterator that resumes with the last resume token after an
   * UNAVAILABLE or slow-subscriber RESOURCE_EXHAUSTED cut (up to `maxReconnects` in a row, with backoff). Call
   * `return()` (or break out of `for await`) to cancel.
   */
  async function* streamEvents(request = {}, { maxReconnects = 10, backoffMs = 200 } = {}) {
    let token = request.resume_token || '';
    let failures = 0;
    for (;;) {
      const call = stubs.events.StreamEvents({ ...request, resume_token: token });
      let received = 0;
      try {
        for await (const frame of call) {
          failures = 0;
          received += 1;
          if (frame.resume_token) token = frame.resume_token;
          yield frame;
        }
        return;
      } catch (error) {
        const typed = toError(error);
        failures += 1;
        if (!isResumable(typed, received) || failures > maxReconnects) throw typed;
        await new Promise((r) => setTimeout(r, Math.min(10000, backoffMs * 2 ** (failures - 1))));
      } finally {
        call.cancel();
      }
    }
  }

  return {
    ...stubs,
    channel,
    unary,
    streamEvents,
    close() {
      for (const stub of Object.values(stubs)) stub.close();
      channel.close();
    },
  };
}

/**
 * The API key from IBKR_API_KEY, IBKR_API_KEY_FILE, or the `.run/api-key` that `make run` writes (under
 * `cwd`, else at the repository root).
 */
function apiKeyFromEnv(cwd = process.cwd()) {
  if (process.env.IBKR_API_KEY) return process.env.IBKR_API_KEY;
  const candidates = process.env.IBKR_API_KEY_FILE
    ? [process.env.IBKR_API_KEY_FILE]
    : [path.join(cwd, '.run', 'api-key'), path.join(REPO_ROOT, '.run', 'api-key')];
  const file = candidates.find((f) => fs.existsSync(f));
  if (process.env.IBKR_API_KEY_FILE && !file) {
    throw new Error(`IBKR_API_KEY_FILE ${process.env.IBKR_API_KEY_FILE} does not exist`);
  }
  return file ? fs.readFileSync(file, 'utf8').trim() : undefined;
}

module.exports = { createClient, decimal, apiKeyFromEnv, serviceConfig, IbkrError, defaultIncludeDirs };
