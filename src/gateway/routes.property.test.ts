/**
 * A property test of the route matcher: thousands of generated request targets — the real
 * model-call paths, and those paths with prefixes, suffixes, random and doubled segments, dot
 * segments, percent-encodings, case changes and other base paths — and only the exact
 * model-call paths pass. The generator is seeded (the seed is in each failure's message), so
 * a failure reproduces.
 */
import { describe, expect, it } from 'vitest';
import { isModelCall } from './routes.js';
import type { Provider } from './types.js';

/** mulberry32: a small seeded PRNG, enough to explore and to reproduce. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Random = () => number;
const pick = <T>(r: Random, items: readonly T[]): T => items[Math.floor(r() * items.length)] as T;
const chance = (r: Random, p: number) => r() < p;

/** The base paths each wire is seen with (provider defaults, proxies, OpenCode's SDK bases). */
const BASES: Record<Provider, string[]> = {
  anthropic: ['', '/v1', '/anthropic', '/proxy/anthropic/v1'],
  openai: ['', '/v1', '/compatible-mode/v1', '/api/paas/v4', '/openai/v1'],
  gemini: ['', '/v1beta', '/gemini', '/google/v1alpha'],
};
const VERSIONS: Record<Provider, string[]> = {
  anthropic: ['v1'],
  openai: [],
  gemini: ['v1', 'v1beta', 'v1alpha'],
};
const GEMINI_ACTIONS = ['generateContent', 'streamGenerateContent', 'countTokens'];
const MODELS = ['claude-sonnet-4-5', 'gpt-5', 'gemini-2.5-pro', 'qwen3.7-max', 'ft:gpt-4o:org::x1'];

/** A model-call path, relative to the base with its API version (as a CLI sends it). */
function realCall(r: Random, provider: Provider): [method: string, path: string] {
  const model = pick(r, MODELS);
  const geminiModel = model.replaceAll(':', '-');
  const version = pick(r, VERSIONS[provider].length ? VERSIONS[provider] : ['']);
  const calls: Record<Provider, Array<[string, string]>> = {
    anthropic: [
      ['POST', '/v1/messages'],
      ['POST', '/v1/messages/count_tokens'],
      ['GET', '/v1/models'],
      ['GET', `/v1/models/${model}`],
    ],
    openai: [
      ['POST', '/chat/completions'],
      ['POST', '/responses'],
      ['POST', '/responses/compact'],
      ['GET', '/models'],
      ['GET', `/models/${model}`],
    ],
    gemini: [
      ['POST', `/${version}/models/${geminiModel}:${pick(r, GEMINI_ACTIONS)}`],
      ['GET', `/${version}/models`],
      ['GET', `/${version}/models/${geminiModel}`],
    ],
  };
  return pick(r, calls[provider]);
}

/** A real call as the gateway receives it: the base path, the call (its version folded into a
 * base that ends in it, as OpenCode's SDKs do), maybe a query. */
function realTarget(r: Random, provider: Provider, base: string): [string, string] {
  const [method, call] = realCall(r, provider);
  const last = base.split('/').at(-1) ?? '';
  const folded =
    VERSIONS[provider].includes(last) && call.startsWith(`/${last}/`) && chance(r, 0.7)
      ? call.slice(last.length + 1)
      : call;
  const query = chance(r, 0.3) ? pick(r, ['?alt=sse', '?beta=true', '?a=1&b=%2F..%2F', '?']) : '';
  return [method, base + folded + query];
}

const SEGMENTS = [
  'v1',
  'v1beta',
  'files',
  'batches',
  'messages',
  'models',
  'organizations',
  'me',
  'threads',
  'responses',
  'chat',
  'completions',
  'count_tokens',
  'x',
  'anthropic',
  'compact',
];
const ENCODINGS = ['%2F', '%2f', '%5C', '%5c', '%3F', '%3f', '%23', '%2E', '%2e', '%00'];
const JUNK = ['..', '.', '', '\\', ';x=1', '#', '%', '%zz', '%61', ' ', '~', ':', '@', '"'];

/**
 * One way to break a real target that always leaves a path no exact rule allows: what the
 * issue and the contract name (encodings, dot and empty segments, backslash, absolute form),
 * and edits of the fixed part of the path.
 */
const BREAKERS: Array<(r: Random, target: string) => string> = [
  (r, t) => insertInPath(r, t, pick(r, ENCODINGS)),
  (r, t) => insertSegment(r, t, pick(r, ['..', '.', '%2e%2e', '.%2e', '%2E'])),
  (r, t) => insertInPath(r, t, '/'), // a slash anywhere: an empty segment, or one split in two
  (r, t) => insertInPath(r, t, '\\'),
  (r, t) => `${pick(r, ['http://api.example.com', 'https://x', '//evil', 'x'])}${t}`,
  (r, t) =>
    splitQuery(t, (p) => `${p}${pick(r, ['/', '.', ';x=1', '/..', '%00', '/files/x', '#f'])}`),
  (_r, t) => splitQuery(t, (p) => p.replace(/[a-z](?=[a-z_]*(\/|$|:))/, (c) => c.toUpperCase())),
  // A segment before the path (not an API version nor `models`: `/v1` + `/v1/messages` after
  // a base of `/v1`, or `/models` + `/models`, are real calls).
  (r, t) =>
    `/${pick(
      r,
      SEGMENTS.filter((s) => !/^v1|^models$/.test(s)),
    )}${t}`,
];

function splitQuery(target: string, edit: (path: string) => string): string {
  const q = target.indexOf('?');
  return q < 0 ? edit(target) : edit(target.slice(0, q)) + target.slice(q);
}

function insertInPath(r: Random, target: string, text: string): string {
  return splitQuery(target, (p) => {
    const at = 1 + Math.floor(r() * p.length);
    return p.slice(0, at) + text + p.slice(at);
  });
}

function insertSegment(r: Random, target: string, segment: string): string {
  return splitQuery(target, (p) => {
    const slashes = [...p.matchAll(/\//g)].map((m) => m.index ?? 0);
    const at = pick(r, slashes);
    return `${p.slice(0, at)}/${segment}${p.slice(at)}`;
  });
}

/**
 * A random target from real and hostile pieces: a real call with one segment replaced,
 * removed, repeated or added, or a path of random pieces (that sometimes is a real call).
 */
function randomTarget(r: Random, provider: Provider, base: string): [string, string] {
  const method = pick(r, ['POST', 'POST', 'GET', 'GET', 'PUT', 'DELETE', 'HEAD']);
  const piece = () => {
    const roll = r();
    if (roll < 0.55) return pick(r, SEGMENTS);
    if (roll < 0.7) return `${pick(r, MODELS)}:${pick(r, GEMINI_ACTIONS)}`;
    if (roll < 0.85) return pick(r, SEGMENTS) + pick(r, ENCODINGS) + pick(r, SEGMENTS);
    return pick(r, JUNK);
  };
  if (chance(r, 0.5)) {
    const [, real] = realTarget(r, provider, base);
    const [path = '', query] = real.split('?');
    const segments = path.split('/').slice(1);
    const at = Math.floor(r() * segments.length);
    const edit = pick(r, ['replace', 'remove', 'repeat', 'add'] as const);
    if (edit === 'replace') segments[at] = piece();
    else if (edit === 'remove') segments.splice(at, 1);
    else if (edit === 'repeat') segments.splice(at, 0, segments[at] ?? '');
    else segments.splice(at, 0, piece());
    return [method, `/${segments.join('/')}${query === undefined ? '' : `?${query}`}`];
  }
  const segments: string[] = chance(r, 0.6) ? base.split('/').slice(1) : [];
  for (let n = 1 + Math.floor(r() * 4); n > 0; n--) segments.push(piece());
  return [method, `/${segments.join('/')}${chance(r, 0.2) ? '?alt=sse' : ''}`];
}

const PROVIDERS: Provider[] = ['anthropic', 'openai', 'gemini'];
const SEED = Number(process.env.ROUTES_SEED ?? 20261129);

describe('isModelCall, property: only the exact model-call paths pass', () => {
  it('every real model call passes, under every base path', () => {
    const r = prng(SEED);
    for (let i = 0; i < 3000; i++) {
      const provider = pick(r, PROVIDERS);
      const base = pick(r, BASES[provider]);
      const [method, target] = realTarget(r, provider, base);
      expect(
        isModelCall(provider, method, target, base),
        `seed ${SEED} #${i}: ${method} ${target} (base ${base})`,
      ).toBe(true);
    }
  });

  it('a real call broken in any of the ways an attacker would is refused', () => {
    const r = prng(SEED + 1);
    for (let i = 0; i < 20000; i++) {
      const provider = pick(r, PROVIDERS);
      const base = pick(r, BASES[provider]);
      const [method, target] = realTarget(r, provider, base);
      const broken = pick(r, BREAKERS)(r, target);
      if (broken === target) continue;
      expect(
        isModelCall(provider, method, broken, base),
        `seed ${SEED + 1} #${i}: ${method} ${broken} (base ${base}, from ${target})`,
      ).toBe(false);
      // The right path with a method it does not take, or under another base path.
      const other = pick(r, ['PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'CONNECT']);
      expect(isModelCall(provider, other, target, base)).toBe(false);
    }
  });

  it('random paths from real and hostile pieces pass only when they are a real call', () => {
    const r = prng(SEED + 2);
    let passed = 0;
    for (let i = 0; i < 30000; i++) {
      const provider = pick(r, PROVIDERS);
      const base = pick(r, BASES[provider]);
      const [method, target] = randomTarget(r, provider, base);
      const verdict = isModelCall(provider, method, target, base);
      if (verdict) passed++;
      expect(verdict, `seed ${SEED + 2} #${i}: ${method} ${target} (base ${base})`).toBe(
        isRealCall(provider, base, method, target),
      );
    }
    // The generator does reach real calls now and then, so both sides are exercised.
    expect(passed).toBeGreaterThan(20);
  });
});

/**
 * The oracle: the model-call paths written out as segment lists and compared literally, an
 * implementation independent of the matcher's. A model name: letters, digits and `._~:@+-`,
 * starting and ending with a letter or digit (no `:` in a Gemini model name).
 */
function isRealCall(provider: Provider, base: string, method: string, target: string): boolean {
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  if (/[#\\]/.test(target) || !path.startsWith(`${base}/`)) return false;
  const rest = path.slice(base.length).split('/').slice(1);
  const last = base.split('/').at(-1) ?? '';
  const tries = VERSIONS[provider].includes(last) ? [rest, [last, ...rest]] : [rest];
  return tries.some((segments) => segmentsAreCall(provider, method, segments));
}

function isName(s: string, colon: boolean): boolean {
  if (s.length === 0 || !isAlnum(s[0] ?? '') || !isAlnum(s.at(-1) ?? '')) return false;
  return [...s].every((c) => isAlnum(c) || '._~@+-'.includes(c) || (colon && c === ':'));
}

function isAlnum(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

function segmentsAreCall(provider: Provider, method: string, s: string[]): boolean {
  const is = (...want: string[]) => s.length === want.length && want.every((w, i) => w === s[i]);
  if (provider === 'anthropic') {
    if (method === 'POST') return is('v1', 'messages') || is('v1', 'messages', 'count_tokens');
    return (
      method === 'GET' &&
      (is('v1', 'models') ||
        (s.length === 3 && is('v1', 'models', s[2] ?? '') && isName(s[2] ?? '', true)))
    );
  }
  if (provider === 'openai') {
    if (method === 'POST')
      return is('chat', 'completions') || is('responses') || is('responses', 'compact');
    return (
      method === 'GET' &&
      (is('models') || (s.length === 2 && s[0] === 'models' && isName(s[1] ?? '', true)))
    );
  }
  if (s[0] === undefined || !VERSIONS.gemini.includes(s[0]) || s[1] !== 'models') return false;
  if (method === 'GET') return s.length === 2 || (s.length === 3 && isName(s[2] ?? '', false));
  if (method !== 'POST' || s.length !== 3) return false;
  const [model, action, ...more] = (s[2] ?? '').split(':');
  return more.length === 0 && isName(model ?? '', false) && GEMINI_ACTIONS.includes(action ?? '');
}
