import { describe, expect, it } from 'vitest';
import { WorkerError } from '../errors.js';
import { DEFAULT_SAFETY_MARGIN_S, safetyMarginMs } from './lambda.js';

describe('the Lambda safety margin', () => {
  it('keeps 60 s back from a long invocation', () => {
    expect(DEFAULT_SAFETY_MARGIN_S).toBe(60);
    expect(safetyMarginMs({}, 900_000)).toBe(60_000);
    expect(safetyMarginMs({ VIBERATOR_LAMBDA_SAFETY_MARGIN: '' }, 900_000)).toBe(60_000);
  });

  it('takes VIBERATOR_LAMBDA_SAFETY_MARGIN seconds', () => {
    expect(safetyMarginMs({ VIBERATOR_LAMBDA_SAFETY_MARGIN: '90' }, 900_000)).toBe(90_000);
    expect(safetyMarginMs({ VIBERATOR_LAMBDA_SAFETY_MARGIN: '0' }, 900_000)).toBe(0);
    expect(safetyMarginMs({ VIBERATOR_LAMBDA_SAFETY_MARGIN: '2.5' }, 900_000)).toBe(2_500);
  });

  it('never more than a quarter of the time the invocation starts with', () => {
    expect(safetyMarginMs({}, 120_000)).toBe(30_000);
    expect(safetyMarginMs({}, 12_000)).toBe(3_000);
    expect(safetyMarginMs({}, -5)).toBe(0);
  });

  it('refuses a value that is not a number of seconds', () => {
    for (const value of ['-1', 'soon', 'NaN', 'Infinity']) {
      let thrown: unknown;
      try {
        safetyMarginMs({ VIBERATOR_LAMBDA_SAFETY_MARGIN: value }, 900_000);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(WorkerError);
      expect((thrown as WorkerError).toFailure()).toMatchObject({
        code: 'internal_error',
        retryable: false,
      });
    }
  });
});
