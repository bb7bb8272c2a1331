// The client for bench/gateway.mjs, in its own process. Modes:
//   ttfb <directUrl> <realKey> <gatewayUrl> <jobKey> <n>: n requests each way, alternating,
//     one at a time on keep-alive connections; prints {direct: [ms], gateway: [ms]}.
//   big <url> <key>: downloads the 50 MB answer; prints {bytes, seconds}.
import { Agent, request } from 'node:http';

const [mode, ...args] = process.argv.slice(2);
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const body = JSON.stringify({ model: 'm', max_tokens: 10, stream: true, messages: [] });

function post(url, key) {
  return new Promise((done, fail) => {
    const started = performance.now();
    let first;
    let bytes = 0;
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'x-api-key': key },
      },
      (res) => {
        res.on('data', (c) => {
          first ??= performance.now() - started;
          bytes += c.length;
        });
        res.on('end', () =>
          done({ status: res.statusCode, ttfb: first, bytes, ms: performance.now() - started }),
        );
        res.on('error', fail);
      },
    );
    req.on('error', fail);
    req.end(body);
  });
}

if (mode === 'ttfb') {
  const [direct, realKey, gateway, jobKey, n] = args;
  const out = { direct: [], gateway: [] };
  for (let i = 0; i < 20; i++) {
    await post(`${direct}/v1/messages`, realKey);
    await post(`${gateway}/v1/messages`, jobKey);
  }
  for (let i = 0; i < Number(n); i++) {
    const d = await post(`${direct}/v1/messages`, realKey);
    const g = await post(`${gateway}/v1/messages`, jobKey);
    if (d.status !== 200 || g.status !== 200) throw new Error(`status ${d.status}/${g.status}`);
    out.direct.push(d.ttfb);
    out.gateway.push(g.ttfb);
  }
  console.log(JSON.stringify(out));
} else {
  const [url, key] = args;
  const r = await post(`${url}/v1/messages?big=1`, key);
  if (r.status !== 200) throw new Error(`status ${r.status}`);
  console.log(JSON.stringify({ bytes: r.bytes, seconds: r.ms / 1000 }));
}
agent.destroy();
