/**
 * OpenAI Responses (`POST …/responses`), as Codex calls it: the conversation as `input`
 * items (messages, function calls and their outputs, custom tool calls), function tools with
 * JSON schemas and custom (freeform) tools such as `apply_patch`; the answer streamed as
 * typed server-sent events (`response.created` … `response.completed` with usage) or as one
 * JSON response object.
 */
import type { ServerResponse } from 'node:http';
import {
  chunks,
  findWorkingDirectory,
  type ModelTurn,
  type OfferedTool,
} from '../scripted-model.js';
import { sendJson, startSse, type Wire, type WireReply } from '../wire.js';

type Item = Record<string, unknown> & { type?: string };

/** The texts of a message's `content`, part by part: a string, or the parts' texts. */
function texts(content: unknown): string[] {
  if (typeof content === 'string') return [content];
  if (!Array.isArray(content)) return [];
  return content.flatMap((part: unknown) =>
    typeof part === 'object' && part !== null && typeof (part as Item).text === 'string'
      ? [(part as Item).text as string]
      : [],
  );
}

/** Messages have `type: "message"`, or no type at all in the short `{role, content}` form. */
function isMessage(item: Item): boolean {
  return (item.type === undefined || item.type === 'message') && typeof item.role === 'string';
}

/**
 * Context Codex adds to the user's turn (environment, AGENTS.md, skills), each in a content
 * part of its own: not the prompt. Parts that are one such block are dropped.
 */
const CONTEXT_BLOCK =
  /^\s*(?:<(environment_context|user_instructions|skills_instructions|permissions instructions|collaboration_mode|apps_instructions)>[\s\S]*<\/\1>|# AGENTS\.md instructions\b[^\n]*\n\s*<INSTRUCTIONS>[\s\S]*<\/INSTRUCTIONS>)\s*$/;

const CALL_TYPES = new Set(['function_call', 'custom_tool_call', 'local_shell_call']);
const OUTPUT_TYPES = new Set(['function_call_output', 'custom_tool_call_output']);

/** Function and custom tools, namespaced ones included; hosted tools (web_search) are not. */
function offeredTools(tools: unknown): OfferedTool[] {
  if (!Array.isArray(tools)) return [];
  return (tools as Item[]).flatMap((tool): OfferedTool[] => {
    if (typeof tool !== 'object' || tool === null) return [];
    if (tool.type === 'namespace') return offeredTools(tool.tools);
    if (typeof tool.name !== 'string') return [];
    if (tool.type === 'function') {
      return [{ name: tool.name, parameters: tool.parameters as Record<string, unknown> }];
    }
    if (tool.type === 'custom') return [{ name: tool.name, freeform: true }];
    return [];
  });
}

/** OpenAI's error `type`/`code` for the statuses the tests use. */
function errorBody(status: number, message: string) {
  const [type, code] =
    status === 401
      ? ['invalid_request_error', 'invalid_api_key']
      : status === 429
        ? ['rate_limit_exceeded', 'rate_limit_exceeded']
        : status >= 500
          ? ['server_error', 'server_error']
          : ['invalid_request_error', null];
  const fallback =
    status === 401
      ? 'Incorrect API key provided. You can find your API key in your account settings.'
      : status >= 500
        ? 'The server had an error while processing your request.'
        : `HTTP ${status}`;
  return { error: { message: message || fallback, type, param: null, code } };
}

let responseCount = 0;

/** The output items of a reply, complete (as `response.output_item.done` carries them). */
function outputItems(turn: ModelTurn, reply: WireReply, n: number): Item[] {
  const items: Item[] = [];
  if (reply.thinking) {
    items.push({
      id: `rs_demo_${n}`,
      type: 'reasoning',
      summary: [{ type: 'summary_text', text: reply.thinking }],
    });
  }
  if (reply.text !== undefined || !reply.toolCall) {
    items.push({
      id: `msg_demo_${n}`,
      type: 'message',
      status: 'completed',
      role: 'assistant',
      content: [{ type: 'output_text', text: reply.text ?? '', annotations: [] }],
    });
  }
  const call = reply.toolCall;
  if (call) {
    const freeform = turn.tools.some((t) => t.name === call.name && t.freeform);
    items.push(
      freeform
        ? {
            id: `ctc_demo_${n}`,
            type: 'custom_tool_call',
            status: 'completed',
            call_id: call.id,
            name: call.name,
            input:
              typeof call.input.input === 'string' ? call.input.input : JSON.stringify(call.input),
          }
        : {
            id: `fc_demo_${n}`,
            type: 'function_call',
            status: 'completed',
            call_id: call.id,
            name: call.name,
            arguments: JSON.stringify(call.input),
          },
    );
  }
  return items;
}

/** Writes the stream of one response: every item added, filled by deltas, done. */
function writeStream(res: ServerResponse, response: Item, items: Item[]): void {
  let sequence = 0;
  const event = (type: string, data: Record<string, unknown>) =>
    res.write(
      `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...data })}\n\n`,
    );
  const pending = { ...response, status: 'in_progress', output: [], usage: null };
  event('response.created', { response: pending });
  event('response.in_progress', { response: pending });
  items.forEach((item, output_index) => {
    const item_id = item.id;
    switch (item.type) {
      case 'reasoning': {
        const summary = (item.summary as Array<{ text: string }>)[0]?.text ?? '';
        event('response.output_item.added', { output_index, item: { ...item, summary: [] } });
        const part = { type: 'summary_text', text: '' };
        event('response.reasoning_summary_part.added', {
          item_id,
          output_index,
          summary_index: 0,
          part,
        });
        for (const delta of chunks(summary)) {
          event('response.reasoning_summary_text.delta', {
            item_id,
            output_index,
            summary_index: 0,
            delta,
          });
        }
        event('response.reasoning_summary_text.done', {
          item_id,
          output_index,
          summary_index: 0,
          text: summary,
        });
        event('response.reasoning_summary_part.done', {
          item_id,
          output_index,
          summary_index: 0,
          part: { ...part, text: summary },
        });
        break;
      }
      case 'message': {
        const full = (item.content as Array<{ text: string }>)[0]?.text ?? '';
        event('response.output_item.added', {
          output_index,
          item: { ...item, status: 'in_progress', content: [] },
        });
        const part = { type: 'output_text', text: '', annotations: [] };
        event('response.content_part.added', { item_id, output_index, content_index: 0, part });
        for (const delta of chunks(full)) {
          event('response.output_text.delta', {
            item_id,
            output_index,
            content_index: 0,
            delta,
            logprobs: [],
          });
        }
        event('response.output_text.done', {
          item_id,
          output_index,
          content_index: 0,
          text: full,
          logprobs: [],
        });
        event('response.content_part.done', {
          item_id,
          output_index,
          content_index: 0,
          part: { ...part, text: full },
        });
        break;
      }
      case 'function_call': {
        const args = String(item.arguments);
        event('response.output_item.added', {
          output_index,
          item: { ...item, status: 'in_progress', arguments: '' },
        });
        for (const delta of chunks(args)) {
          event('response.function_call_arguments.delta', { item_id, output_index, delta });
        }
        event('response.function_call_arguments.done', {
          item_id,
          output_index,
          arguments: args,
        });
        break;
      }
      case 'custom_tool_call': {
        const input = String(item.input);
        event('response.output_item.added', {
          output_index,
          item: { ...item, status: 'in_progress', input: '' },
        });
        for (const delta of chunks(input)) {
          event('response.custom_tool_call_input.delta', { item_id, output_index, delta });
        }
        event('response.custom_tool_call_input.done', { item_id, output_index, input });
        break;
      }
    }
    event('response.output_item.done', { output_index, item });
  });
  event('response.completed', { response });
  res.end();
}

export const openAiResponsesWire: Wire = {
  name: 'openai-responses',
  handles: (method, path) => method === 'POST' && path.endsWith('/responses'),
  decode(body) {
    const input: Item[] =
      typeof body.input === 'string'
        ? [{ type: 'message', role: 'user', content: body.input }]
        : Array.isArray(body.input)
          ? (body.input as unknown[]).filter(
              (i): i is Item => typeof i === 'object' && i !== null && !Array.isArray(i),
            )
          : [];
    const messages = input.filter(isMessage);
    const instructions = typeof body.instructions === 'string' ? body.instructions : '';
    const all = [instructions, ...messages.flatMap((m) => texts(m.content))];
    return {
      wire: 'openai-responses',
      model: typeof body.model === 'string' ? body.model : undefined,
      prompt: messages
        .filter((m) => m.role === 'user')
        .flatMap((m) => texts(m.content))
        .filter((t) => !CONTEXT_BLOCK.test(t))
        .join('\n')
        .replace(/\r\n/g, '\n')
        .trim(),
      allText: all.join('\n'),
      tools: offeredTools(body.tools),
      toolCalls: input.filter((i) => CALL_TYPES.has(i.type ?? '')).length,
      toolResults: input.filter((i) => OUTPUT_TYPES.has(i.type ?? '')).length,
      cwd: findWorkingDirectory(all),
      stream: body.stream === true,
    };
  },
  reply(res, turn, reply) {
    responseCount++;
    const items = outputItems(turn, reply, responseCount);
    const response: Item = {
      id: `resp_demo_${responseCount}`,
      object: 'response',
      created_at: Math.floor(Date.now() / 1000),
      status: 'completed',
      error: null,
      incomplete_details: null,
      model: turn.model ?? 'demo-model',
      output: items,
      parallel_tool_calls: true,
      tool_choice: 'auto',
      usage: {
        input_tokens: reply.usage.inputTokens,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: reply.usage.outputTokens,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: reply.usage.inputTokens + reply.usage.outputTokens,
      },
    };
    if (!turn.stream) {
      sendJson(res, 200, { ...response, output_text: reply.text ?? '' });
      return;
    }
    startSse(res);
    writeStream(res, response, items);
  },
  error(res, status, message) {
    sendJson(res, status, errorBody(status, message));
  },
};
