import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { AppError, ERROR_CODES, fromGrpcError, toGrpcError } from './index.js';

describe('error codes', () => {
  it('are snake_case with a gRPC and an HTTP status each', () => {
    for (const [code, map] of Object.entries(ERROR_CODES)) {
      assert.match(code, /^[a-z]+(_[a-z]+)*$/);
      assert.ok(map.http >= 400 && map.http < 600);
    }
  });

  it('survive a trip through gRPC status and metadata', () => {
    const original = new AppError('rate_limited', 'slow down', 1500);
    const wire = toGrpcError(original);
    assert.equal(wire.code, status.RESOURCE_EXHAUSTED);
    const back = fromGrpcError(wire, 'auth');
    assert.equal(back.code, 'rate_limited');
    assert.equal(back.message, 'slow down');
    assert.equal(back.retryAfterMs, 1500);
    assert.deepEqual(back.toBody(), {
      error: { code: 'rate_limited', message: 'slow down', retryAfterMs: 1500 },
    });
  });

  it('turn transport failures into unavailable/timeout', () => {
    assert.equal(
      fromGrpcError({ code: status.UNAVAILABLE, details: 'No connection established' }, 'auth').code,
      'unavailable',
    );
    assert.equal(fromGrpcError({ code: status.DEADLINE_EXCEEDED }, 'auth').code, 'timeout');
    assert.equal(
      fromGrpcError({ code: status.INTERNAL, details: 'Received RST_STREAM with code 2' }, 'auth').code,
      'unavailable',
    );
    assert.equal(fromGrpcError(new Error('boom'), 'auth').code, 'internal');
  });

  it('turn transient dependency failures into unavailable', () => {
    const busy = Object.assign(new Error('Pool is busy'), { name: 'NoHostAvailableError' });
    assert.equal(toGrpcError(busy).code, status.UNAVAILABLE);
    const overloaded = Object.assign(new Error('Overloaded'), { name: 'ResponseError', code: 0x1001 });
    assert.equal(toGrpcError(overloaded).code, status.UNAVAILABLE);
  });

  it('keep transport details (addresses) out of the message, in the detail for the logs', () => {
    const down = fromGrpcError(
      {
        code: status.UNAVAILABLE,
        details: 'No connection established. Last error: connect ECONNREFUSED 10.1.2.3:50052',
      },
      'message',
    );
    assert.equal(down.code, 'unavailable');
    assert.doesNotMatch(down.message, /10\.1\.2\.3|50052|ECONNREFUSED/);
    assert.match(down.detail!, /10\.1\.2\.3:50052/);
    assert.deepEqual(Object.keys(down.toBody().error).sort(), ['code', 'message']);
    assert.doesNotMatch(String(toGrpcError(down).details), /10\.1\.2\.3/);
  });

  it('hide unexpected errors behind internal', () => {
    const wire = toGrpcError(new TypeError('secret detail'));
    assert.equal(wire.code, status.INTERNAL);
    assert.equal(wire.details, 'internal error');
  });
});
