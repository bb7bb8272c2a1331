import { z } from 'zod';
import { AGENT_SLUGS } from '../agents/types.js';
import { SCM_PROVIDER_IDS } from '../scm/provider.js';
import { TEMPLATES } from './templates.js';

/** jobId names a directory: no separators, no leading dot (payload.md). */
export const JOB_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * Characters a shell or a git ref would interpret. A ticket or claw key holding one is
 * refused rather than silently reduced: such a key means a broken or forged payload.
 */
const SHELL_METACHARACTERS = /[;&|$`<>(){}[\]!*?~'"\\\n\r\t\0]/;

const key = z
  .string()
  .min(1)
  .max(128)
  .refine((value) => !SHELL_METACHARACTERS.test(value), {
    message: 'must not contain shell metacharacters or control characters',
  });

const skillFile = z.object({
  path: z
    .string()
    .min(1)
    .refine((path) => !path.startsWith('/') && !path.split(/[\\/]/).includes('..'), {
      message: "must be a relative path inside the skill's folder",
    }),
  content: z.string(),
});

/** USD per million tokens (docs/model-gateway.md, "Prices"). */
const modelPriceSchema = z.object({
  inputPerMTok: z.number().nonnegative(),
  outputPerMTok: z.number().nonnegative(),
  cacheReadPerMTok: z.number().nonnegative().optional(),
  cacheWritePerMTok: z.number().nonnegative().optional(),
});

export const clankerSchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1).optional(),
  agent: z.enum(AGENT_SLUGS),
  model: z.string().min(1).optional(),
  baseUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** Prices per model id that replace the worker's table for this clanker. */
  prices: z.record(z.string().min(1), modelPriceSchema).optional(),
  agentsMd: z.string().optional(),
  skills: z
    .array(
      z.object({
        name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/),
        files: z.array(skillFile),
      }),
    )
    .optional(),
});

const secretRef = z.string().regex(/^(env:[A-Za-z_][A-Za-z0-9_]*|platform:.+|ssm:\/.+)$/, {
  message: 'must be env:NAME, platform:KEY or ssm:/parameter/path',
});

export const secretSchema = z.object({
  name: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'must be an environment variable name' }),
  ref: secretRef.optional(),
  required: z.boolean().default(true),
  exposeToAgent: z.boolean().optional(),
});

export const payloadSchema = z.object({
  version: z.literal(1),
  jobId: z.string().regex(JOB_ID_PATTERN, {
    message: 'must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$ (it names a directory)',
  }),
  template: z.enum(TEMPLATES),
  prompt: z.string().trim().min(1, { message: 'must not be empty' }),
  project: z.object({
    id: z.string().min(1),
    name: z.string().optional(),
    branchNameTemplate: z.string().min(1).default('viberator/{{ ticket }}'),
    prBaseBranch: z.string().min(1).optional(),
    workerSettings: z
      .object({
        maxExecutionTime: z.number().int().positive().default(3600),
        /** runtime.md, "Budget": caps metered by the model gateway; either or both. */
        budget: z
          .object({
            maxTokens: z.number().int().positive().optional(),
            maxCostUsd: z.number().positive().optional(),
          })
          .refine((b) => b.maxTokens !== undefined || b.maxCostUsd !== undefined, {
            message: 'must set maxTokens, maxCostUsd or both',
          })
          .optional(),
      })
      .prefault({}),
  }),
  ticket: z
    .object({
      id: z.string().min(1),
      key,
      title: z.string().default(''),
      description: z.string().optional(),
      severity: z.string().optional(),
      originalKey: key.optional(),
    })
    .optional(),
  claw: z.object({ id: z.string().min(1), key, name: z.string().optional() }).optional(),
  repository: z.object({
    url: z.string().min(1),
    baseBranch: z.string().min(1).default('main'),
    /** Default from the host (runtime.md, "Pull requests and merge requests"). */
    provider: z.enum(SCM_PROVIDER_IDS).optional(),
    /** API base of a self-hosted SCM; checked like `url` in validate.ts. */
    apiUrl: z.string().min(1).optional(),
  }),
  clanker: clankerSchema.optional(),
  clankerId: z.string().min(1).optional(),
  secrets: z.array(secretSchema).default([]),
  callback: z.object({ url: z.url({ protocol: /^https?$/ }), token: z.string().min(1) }).optional(),
  artifacts: z.object({ s3Uri: z.string().regex(/^s3:\/\/[^/]+\/?.*$/) }).optional(),
});

/** A validated payload, defaults applied. */
export type Payload = z.infer<typeof payloadSchema>;
export type Clanker = z.infer<typeof clankerSchema>;
export type SecretSpec = z.infer<typeof secretSchema>;
