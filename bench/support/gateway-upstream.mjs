// The upstream for bench/gateway.mjs, in its own process: a small streamed Anthropic answer
// on POST /v1/messages, and a 50 MB one on POST /v1/messages?big=1 (written with backpressure).
// It answers only the real key. Prints its URL on stdout.
import { createServer } from 'node:http';

const KEY = process.argv[2];
const TOTAL = 50 * 1024 * 1024;
const start =
  'event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":7,"output_tokens":1}}}\n\n';
const small = `${start}event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello."}}\n\nevent: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":3}}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n`;
const event = Buffer.from(
  `event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"${'x'.repeat(16 * 1024 - 100)}"}}\n\n`,
);
// Written 16 events (256 KB) at a time.
const chunk = Buffer.concat(Array(16).fill(event));

createServer((req, res) => {
  req.resume();
  if (req.headers['x-api-key'] !== KEY) {
    res.writeHead(401, { 'content-type': 'application/json' });
    res.end('{"type":"error","error":{"type":"authentication_error","message":"bad key"}}');
    return;
  }
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    if (!req.url.includes('big=1')) return void res.end(small);
    res.write(start);
    let sent = 0;
    const pump = () => {
      while (sent < TOTAL) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end(
        'event: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":12345}}\n\n',
      );
    };
    pump();
  });
}).listen(0, '127.0.0.1', function () {
  console.log(`http://127.0.0.1:${this.address().port}`);
});
