import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { costUsd, findPrice, type ModelPrice, PRICE_TABLE, type PriceEntry } from './prices.js';
import { zeroUsage } from './types.js';

const entry = (model: string): PriceEntry => {
  const found = PRICE_TABLE.find((e) => e.model === model);
  if (!found) throw new Error(`no entry ${model}`);
  return found;
};
/** The ModelPrice findPrice should return for a table entry. */
const priceOf = (model: string): ModelPrice => {
  const { inputPerMTok, outputPerMTok, cacheReadPerMTok, cacheWritePerMTok } = entry(model);
  return {
    inputPerMTok,
    outputPerMTok,
    ...(cacheReadPerMTok !== undefined && { cacheReadPerMTok }),
    ...(cacheWritePerMTok !== undefined && { cacheWritePerMTok }),
  };
};

describe('findPrice', () => {
  it.each([
    // exact and case
    ['claude-sonnet-4-5', 'claude-sonnet-4-5'],
    ['GPT-5', 'gpt-5'],
    // provider and path prefixes
    ['anthropic/claude-sonnet-4-5', 'claude-sonnet-4-5'],
    ['openai/gpt-5', 'gpt-5'],
    ['google/gemini-2.5-pro', 'gemini-2.5-pro'],
    ['models/gemini-2.5-pro', 'gemini-2.5-pro'],
    ['models/gemini-2.5-pro:streamGenerateContent', 'gemini-2.5-pro'],
    ['openrouter/anthropic/claude-sonnet-4.5', 'claude-sonnet-4-5'],
    // Anthropic dated ids, Vertex ids, -latest, Claude Code's [1m]
    ['claude-sonnet-4-5-20250929', 'claude-sonnet-4-5'],
    ['claude-3-5-haiku-20241022', 'claude-3-5-haiku'],
    ['claude-opus-4-20250514', 'claude-opus-4-0'],
    ['claude-sonnet-4-20250514', 'claude-sonnet-4-0'],
    ['claude-sonnet-4-5@20250929', 'claude-sonnet-4-5'],
    ['claude-3-7-sonnet-latest', 'claude-3-7-sonnet'],
    ['claude-3.7-sonnet', 'claude-3-7-sonnet'],
    ['claude-opus-5-5[1m]', 'claude-opus-5-5'],
    ['codestral-latest', 'codestral-latest'],
    ['codestral', 'codestral-latest'],
    ['mistral-vibe-cli-latest', 'mistral-vibe-cli-latest'],
    ['mistral-medium-3.5', 'mistral-vibe-cli-latest'],
    ['mistral/devstral-small-latest', 'devstral-small-2507'],
    // Claude Code's aliases: the current model of the family in Claude Code 2.1.331
    ['sonnet', 'claude-sonnet-5-5'],
    ['opus', 'claude-opus-5-5'],
    ['haiku', 'claude-haiku-5-5'],
    ['fable', 'claude-fable-5-2'],
    ['sonnet[1m]', 'claude-sonnet-5-5'],
    // OpenAI dated snapshots; a snapshot with a price of its own keeps it
    ['gpt-4o-2024-08-06', 'gpt-4o'],
    ['gpt-5-2025-08-07', 'gpt-5'],
    ['gpt-4o-mini-2024-07-18', 'gpt-4o-mini'],
    ['gpt-4o-2024-05-13', 'gpt-4o-2024-05-13'],
    // the defaults of the pinned CLIs
    ['gpt-6.2-sol', 'gpt-6.2-sol'],
    ['gemini-3.1-pro-preview-customtools', 'gemini-3.1-pro-preview'],
    ['gemini-3.8-flash', 'gemini-3.8-flash'],
    ['gemini-3.5-flash-lite', 'gemini-3.5-flash-lite'],
    ['qwen3.7-max', 'qwen3.7-max'],
    ['moonshotai/kimi-k2.7-code', 'kimi-k2.7-code'],
  ])('%s → %s', (name, model) => {
    expect(findPrice(name)).toEqual(priceOf(model));
  });

  it('never matches by prefix: the most specific name wins, unrelated names are unknown', () => {
    expect(findPrice('gpt-5-mini')).toEqual(priceOf('gpt-5-mini'));
    expect(findPrice('gpt-5-mini')).not.toEqual(findPrice('gpt-5'));
    expect(findPrice('gpt-5.1-codex-mini')).toEqual(priceOf('gpt-5.1-codex-mini'));
    expect(findPrice('gemini-2.5-flash-lite')).toEqual(priceOf('gemini-2.5-flash-lite'));
    for (const name of [
      'gpt-5-turbo',
      'gpt-5x',
      'claude-sonnet',
      'my-model',
      'sonnetish',
      'gpt-5-chat-latest',
      '',
    ]) {
      expect(findPrice(name), name).toBeUndefined();
    }
  });

  it('lets overrides win: exact id first, then normalised', () => {
    const mine: ModelPrice = { inputPerMTok: 1, outputPerMTok: 2 };
    const theirs: ModelPrice = { inputPerMTok: 7, outputPerMTok: 8 };
    expect(findPrice('my-model', { 'my-model': mine })).toBe(mine);
    expect(findPrice('openai/My-Model-latest', { 'my-model': mine })).toBe(mine);
    expect(findPrice('gpt-5', { 'gpt-5': mine })).toBe(mine);
    expect(findPrice('claude-sonnet-4-5-20250929', { 'claude-sonnet-4-5': mine })).toBe(mine);
    // the exact id beats a key that only matches once normalised
    expect(findPrice('Gpt-5', { 'gpt-5': theirs, 'Gpt-5': mine })).toBe(mine);
    // overrides that do not name the model leave the table alone
    expect(findPrice('gpt-5', { 'my-model': mine })).toEqual(priceOf('gpt-5'));
    expect(findPrice('unknown', {})).toBeUndefined();
  });
});

describe('costUsd', () => {
  it('charges each kind of token at its price per million', () => {
    const price: ModelPrice = {
      inputPerMTok: 3,
      outputPerMTok: 15,
      cacheReadPerMTok: 0.3,
      cacheWritePerMTok: 3.75,
    };
    const usage = {
      inputTokens: 1_000_000,
      outputTokens: 200_000,
      cacheReadTokens: 2_000_000,
      cacheWriteTokens: 100_000,
    };
    // 3 + 3 + 0.6 + 0.375
    expect(costUsd(usage, price)).toBeCloseTo(6.975, 10);
  });

  it('charges cache tokens at the input price when the cache prices are absent', () => {
    const usage = {
      inputTokens: 500_000,
      outputTokens: 10_000,
      cacheReadTokens: 250_000,
      cacheWriteTokens: 250_000,
    };
    // (500k + 250k + 250k) × $2 + 10k × $8
    expect(costUsd(usage, { inputPerMTok: 2, outputPerMTok: 8 })).toBeCloseTo(2.08, 10);
    expect(costUsd(zeroUsage(), { inputPerMTok: 2, outputPerMTok: 8 })).toBe(0);
  });

  it('prices a small Claude Code answer from the table', () => {
    const price = findPrice('claude-sonnet-4-5-20250929');
    if (!price) throw new Error('no price');
    const usage = { ...zeroUsage(), inputTokens: 12_267, outputTokens: 6 };
    expect(costUsd(usage, price)).toBeCloseTo((12_267 * 3 + 6 * 15) / 1e6, 12);
  });
});

describe('PRICE_TABLE', () => {
  it('has a https source and a YYYY-MM-DD date on every entry, and sane figures', () => {
    expect(PRICE_TABLE.length).toBeGreaterThan(50);
    for (const e of PRICE_TABLE) {
      expect(new URL(e.source).protocol, e.model).toBe('https:');
      expect(e.checked, e.model).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(Number.isNaN(Date.parse(e.checked)), e.model).toBe(false);
      expect(e.provider, e.model).not.toBe('');
      for (const v of [e.inputPerMTok, e.outputPerMTok, e.cacheReadPerMTok, e.cacheWritePerMTok]) {
        if (v !== undefined) expect(Number.isFinite(v) && v >= 0, e.model).toBe(true);
      }
    }
  });

  it('gives every name and alias to one entry only, even once normalised', () => {
    const seen = new Map<string, string>();
    for (const e of PRICE_TABLE) {
      for (const name of [e.model, ...(e.aliases ?? [])]) {
        const key = name.toLowerCase().replace(/-latest$/, '');
        expect(seen.get(key), `${name} (${e.model})`).toBeUndefined();
        seen.set(key, e.model);
        // each name finds its own entry
        expect(findPrice(name), name).toEqual(priceOf(e.model));
      }
    }
  });
});

describe('docs/model-gateway.md', () => {
  const docs = readFileSync(new URL('../../docs/model-gateway.md', import.meta.url), 'utf8');
  const section = docs.slice(docs.indexOf('\n## Prices\n'));
  const rows = section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) =>
      line
        .slice(1, -1)
        .split('|')
        .map((cell) => cell.trim()),
    );
  const names = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
  const figure = (cell: string | undefined) => (cell === '—' ? undefined : Number(cell));

  it('has a Prices section that lists every entry of PRICE_TABLE with the same figures', () => {
    expect(docs.includes('\n## Prices\n')).toBe(true);
    expect(rows.length).toBe(PRICE_TABLE.length);
    for (const e of PRICE_TABLE) {
      const row = rows.find((r) => names(r[0] ?? '')[0] === e.model);
      expect(row, e.model).toBeDefined();
      if (!row) continue;
      const [, aliases, input, output, cacheRead, cacheWrite, source, checked] = row;
      expect(names(aliases ?? ''), e.model).toEqual(e.aliases ?? []);
      expect(figure(input), e.model).toBe(e.inputPerMTok);
      expect(figure(output), e.model).toBe(e.outputPerMTok);
      expect(figure(cacheRead), e.model).toBe(e.cacheReadPerMTok);
      expect(figure(cacheWrite), e.model).toBe(e.cacheWritePerMTok);
      expect(source, e.model).toBe(`<${e.source}>`);
      expect(checked, e.model).toBe(e.checked);
    }
  });

  it('says how clanker.prices overrides the table', () => {
    expect(section).toContain('clanker.prices');
    expect(section).toContain(
      '"prices": { "my-model": { "inputPerMTok": 1, "outputPerMTok": 2 } }',
    );
  });
});
