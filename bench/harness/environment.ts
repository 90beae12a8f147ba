import { readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem, type as osType } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { infoField, redisCommand } from './redis-info.js';

/** Root of the repository. */
export const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** The machine a run was measured on. */
export interface MachineInfo {
  cpuModel: string;
  cpus: number;
  memoryGiB: number;
  os: string;
  /** 1-minute load average when the run started: anything else running makes numbers noisy. */
  loadAverageAtStart: number;
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cpus: list.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${osType()} ${release()}`,
    loadAverageAtStart: Math.round(loadavg()[0]! * 100) / 100,
  };
}

/** Version of an installed package: the first of `locations` (folders under node_modules) that has one. */
function installedVersion(...locations: string[]): string | undefined {
  for (const location of locations) {
    try {
      const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', location, 'package.json'), 'utf8')) as { version?: string };
      if (manifest.version) return manifest.version;
    } catch {
      // not installed there
    }
  }
  return undefined;
}

/** Versions of Node and of every package on the path of a request, as installed. */
export function versions(): Record<string, string> {
  const found: Record<string, string | undefined> = {
    node: process.versions.node,
    '@nestjs/core': installedVersion('@nestjs/core'),
    '@nestjs/platform-express': installedVersion('@nestjs/platform-express'),
    express: installedVersion('@nestjs/platform-express/node_modules/express', 'express'),
    '@nestjs/platform-fastify': installedVersion('@nestjs/platform-fastify'),
    fastify: installedVersion('@nestjs/platform-fastify/node_modules/fastify', 'fastify'),
    '@palisade/nest': installedVersion('@palisade/nest'),
    '@nestjs/throttler': installedVersion('@nestjs/throttler'),
    '@nestjs/passport': installedVersion('@nestjs/passport'),
    'passport-jwt': installedVersion('passport-jwt'),
    jsonwebtoken: installedVersion('passport-jwt/node_modules/jsonwebtoken', 'jsonwebtoken'),
    helmet: installedVersion('helmet'),
    '@fastify/helmet': installedVersion('@fastify/helmet'),
    ioredis: installedVersion('ioredis'),
    autocannon: installedVersion('autocannon'),
  };
  return Object.fromEntries(Object.entries(found).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

/** `redis_version` of the server at `url`, or undefined. */
export async function redisVersion(url: string): Promise<string | undefined> {
  try {
    return infoField(await redisCommand(url, ['INFO', 'server']), 'redis_version');
  } catch {
    return undefined;
  }
}
