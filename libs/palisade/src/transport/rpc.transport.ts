import type { HttpException } from '@nestjs/common';
import { callErrorOf } from './call-error.js';

type RpcExceptionClass = new (error: object) => Error;
let rpcException: RpcExceptionClass | undefined;

/**
 * Loads `@nestjs/microservices`' `RpcException` (an optional peer), so a refused microservice call
 * reaches its client with Palisade's stable error instead of Nest's generic "Internal server
 * error". Called at bootstrap when the application has microservice handlers.
 * @internal
 */
export async function loadRpcSupport(): Promise<void> {
  if (rpcException) return;
  const microservices = (await import('@nestjs/microservices')) as { RpcException: RpcExceptionClass };
  rpcException = microservices.RpcException;
}

/**
 * The error a refused microservice call answers: an `RpcException` whose payload is `{ status:
 * 'error', statusCode, error, message, code }`, sent as is by Nest's RPC exception filter.
 * @internal
 */
export function toRpcError(exception: HttpException): Error {
  if (!rpcException) return exception;
  return new rpcException({ status: 'error', ...callErrorOf(exception) });
}
