// One subscriber process of bench/bench_stream.py, in Node (@grpc/grpc-js from clients/node): it costs about
// half the CPU per received message of a grpc.aio client, so on a small machine the subscribers take less of
// the CPU the measured server needs. Same protocol as the Python worker:
//   node stream_subscriber.js TARGET KEY|- SUBSCRIBERS SECONDS CHANNELS
// opens the streams, prints "ready", waits for a line on stdin (warm-up over), records the lag of every event
// received for SECONDS, then prints "<streams cut> <lag seconds>..." on one line.
'use strict';
const path = require('path');
const grpc = require(path.join(__dirname, '..', 'clients', 'node', 'node_modules', '@grpc', 'grpc-js'));

const [target, key, subscribers, seconds, channelCount] = process.argv.slice(2);
const identity = (b) => b;

// Reads a protobuf varint at buf[pos]; returns [value, next position].
function varint(buf, pos) {
  let value = 0, shift = 1;
  for (;;) {
    const byte = buf[pos++];
    value += (byte & 0x7f) * shift;
    if (byte < 0x80) return [value, pos];
    shift *= 128;
  }
}

// The length-delimited field `field` of a message (first occurrence), or null. Skips the other wire types.
function subMessage(buf, field) {
  let pos = 0;
  while (pos < buf.length) {
    let tag;
    [tag, pos] = varint(buf, pos);
    const wire = tag & 7;
    if (wire === 2) {
      let len;
      [len, pos] = varint(buf, pos);
      if (tag >>> 3 === field) return buf.subarray(pos, pos + len);
      pos += len;
    } else if (wire === 0) {
      [, pos] = varint(buf, pos);
    } else if (wire === 1) {
      pos += 8;
    } else if (wire === 5) {
      pos += 4;
    } else {
      return null;
    }
  }
  return null;
}

// Event.event_time (2) → Timestamp {seconds (1), nanos (2)}, as wall-clock milliseconds (a double:
// sub-microsecond precision, plenty for a lag in ms).
function eventTimeMs(event) {
  const ts = subMessage(event, 2);
  if (ts === null) return null;
  let pos = 0, seconds = 0, nanos = 0;
  while (pos < ts.length) {
    let tag, v;
    [tag, pos] = varint(ts, pos);
    [v, pos] = varint(ts, pos);
    if (tag >>> 3 === 1) seconds = v; else if (tag >>> 3 === 2) nanos = v;
  }
  return seconds * 1e3 + nanos / 1e6;
}

// An edge frame: StreamEventsResponse.event (1) holds the Event; heartbeats and markers have none.
function eventSentMs(frame) {
  const event = subMessage(frame, 1);
  return event === null ? null : eventTimeMs(event);
}

// The raw baseline's frame is the bus entry's serialized Event itself.
const rawSentMs = eventTimeMs;

// Wall-clock milliseconds with sub-millisecond resolution (Date.now() has whole milliseconds only).
const nowMs = () => performance.timeOrigin + performance.now();

const raw = key === '-';
const method = raw ? '/bench.Fan/Subscribe' : '/ibkr.edge.v1.EventService/StreamEvents';
// StreamEventsRequest { skip_snapshot = true } : field 5 varint 1 (see event_service.proto).
const request = raw ? Buffer.alloc(0) : Buffer.from([0x28, 0x01]);
const decode = raw ? rawSentMs : eventSentMs;
const metadata = new grpc.Metadata();
if (!raw) metadata.set('authorization', `Bearer ${key}`);

const channels = [];
for (let i = 0; i < Number(channelCount); i++) {
  // A subchannel pool per client, so each is its own HTTP/2 connection, like the Python worker's channels.
  channels.push(new grpc.Client(target, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }));
}
const lags = [];
let measuring = false, cut = 0;
const calls = [];
for (let i = 0; i < Number(subscribers); i++) {
  const call = channels[i % channels.length].makeServerStreamRequest(method, identity, identity, request, metadata);
  call.on('data', (frame) => {
    if (!measuring) return;
    const sent = decode(frame);
    if (sent !== null) lags.push((nowMs() - sent) / 1e3);
  });
  call.on('error', (err) => { if (err.code === grpc.status.RESOURCE_EXHAUSTED) cut++; });
  calls.push(call);
}

process.stdout.write('ready\n');
process.stdin.once('data', () => {
  measuring = true;
  setTimeout(() => {
    measuring = false;
    calls.forEach((c) => c.cancel());
    process.stdout.write(`${cut} ${lags.map((x) => x.toFixed(6)).join(' ')}\n`, () => process.exit(0));
  }, Number(seconds) * 1000);
});
