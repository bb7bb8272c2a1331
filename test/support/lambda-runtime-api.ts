import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';

/**
 * A stand-in for the Lambda Runtime API (the 2018-06-01 protocol the real `aws-lambda-ric`
 * speaks) on 127.0.0.1: it hands out queued invocations on `GET …/invocation/next` (long poll)
 * and records what the runtime posts back to `…/response`, `…/error` or `…/init/error`.
 */

/** What the runtime posted for one invocation. */
export interface InvocationOutcome {
  kind: 'response' | 'error';
  /** The posted body, parsed as JSON when it parses. */
  body: unknown;
  /** `Lambda-Runtime-Function-Error-Type` of an error. */
  errorType?: string;
  /** When the post arrived, epoch ms. */
  at: number;
  /** The invocation's deadline, epoch ms. */
  deadline: number;
}

interface Pending {
  id: string;
  body: string;
  deadline: number;
  done: (outcome: InvocationOutcome) => void;
}

export interface RuntimeApi {
  /** `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`. */
  address: string;
  /**
   * Queues one invocation and resolves with what the runtime posts back. `timeoutMs` is the
   * invocation's timeout: it sets `Lambda-Runtime-Deadline-Ms`.
   */
  invoke(event: unknown, opts?: { timeoutMs?: number }): Promise<InvocationOutcome>;
  /** Bodies posted to `/runtime/init/error`. */
  initErrors: unknown[];
  /** How many times the runtime asked for the next invocation. */
  polls: number;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((done, fail) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => done(Buffer.concat(chunks).toString('utf8')));
    req.on('error', fail);
  });
}

function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export async function startRuntimeApi(): Promise<RuntimeApi> {
  const queue: Pending[] = [];
  const waiting: ServerResponse[] = [];
  const inFlight = new Map<string, Pending>();
  const initErrors: unknown[] = [];
  let polls = 0;

  const hand = (res: ServerResponse, next: Pending) => {
    inFlight.set(next.id, next);
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Lambda-Runtime-Aws-Request-Id': next.id,
      'Lambda-Runtime-Deadline-Ms': String(next.deadline),
      'Lambda-Runtime-Invoked-Function-Arn':
        'arn:aws:lambda:us-east-1:123456789012:function:viberator-worker',
      'Lambda-Runtime-Trace-Id': `Root=1-${Date.now().toString(16)}-${next.id.replace(/-/g, '').slice(0, 24)}`,
    });
    res.end(next.body);
  };

  const server = createServer(async (req, res) => {
    const url = req.url ?? '';
    const body = await readBody(req);
    if (req.method === 'GET' && url === '/2018-06-01/runtime/invocation/next') {
      polls += 1;
      const next = queue.shift();
      if (next) hand(res, next);
      else {
        // A runtime that goes away (a test stops it) leaves its poll: forget it.
        waiting.push(res);
        res.on('close', () => {
          const index = waiting.indexOf(res);
          if (index >= 0) waiting.splice(index, 1);
        });
      }
      return;
    }
    const posted = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(url);
    if (req.method === 'POST' && posted) {
      const pending = inFlight.get(posted[1] ?? '');
      if (!pending) {
        res.writeHead(400).end('{"errorType":"InvalidRequestID"}');
        return;
      }
      inFlight.delete(pending.id);
      res.writeHead(202).end('{"status":"OK"}');
      const errorType = req.headers['lambda-runtime-function-error-type'];
      pending.done({
        kind: posted[2] === 'error' ? 'error' : 'response',
        body: parsed(body),
        errorType: typeof errorType === 'string' ? errorType : undefined,
        at: Date.now(),
        deadline: pending.deadline,
      });
      return;
    }
    if (req.method === 'POST' && url === '/2018-06-01/runtime/init/error') {
      initErrors.push(parsed(body));
      res.writeHead(202).end('{"status":"OK"}');
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;

  return {
    address: `127.0.0.1:${port}`,
    initErrors,
    get polls() {
      return polls;
    },
    invoke(event, opts = {}) {
      return new Promise((done) => {
        const next: Pending = {
          id: randomUUID(),
          body: JSON.stringify(event),
          deadline: Date.now() + (opts.timeoutMs ?? 120_000),
          done,
        };
        const res = waiting.shift();
        if (res) hand(res, next);
        else queue.push(next);
      });
    },
    async close() {
      for (const res of waiting.splice(0)) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

const RIC = resolve(import.meta.dirname, '../../node_modules/aws-lambda-ric/index.mjs');
const PACKAGE_ROOT = resolve(import.meta.dirname, '../..');

/** The real runtime interface client running the built handler (`dist/lambda.js`). */
export interface LambdaProcess {
  child: ChildProcess;
  /** Everything the function wrote to stdout and stderr (CloudWatch, in Lambda). */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts `aws-lambda-ric` as the Lambda image does: the package as `LAMBDA_TASK_ROOT` and the
 * built handler as `_HANDLER=dist/lambda.handler`, the function's variables, and `env`. `prefix` starts it through
 * another command (setpriv, to run as an unprivileged user like Lambda's).
 */
export function startLambdaProcess(
  api: RuntimeApi,
  env: NodeJS.ProcessEnv,
  prefix: string[] = [],
): LambdaProcess {
  const [file, ...args] = [...prefix, process.execPath, RIC];
  const child = spawn(file ?? process.execPath, args, {
    env: {
      AWS_LAMBDA_RUNTIME_API: api.address,
      _HANDLER: 'dist/lambda.handler',
      LAMBDA_TASK_ROOT: PACKAGE_ROOT,
      AWS_LAMBDA_FUNCTION_NAME: 'viberator-worker',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '2048',
      AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/viberator-worker',
      AWS_LAMBDA_LOG_STREAM_NAME: '2026/11/29/[$LATEST]0123456789abcdef',
      AWS_REGION: 'us-east-1',
      ...env,
    },
    cwd: PACKAGE_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  const exited = new Promise<void>((done) => child.on('exit', () => done()));
  return {
    child,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
