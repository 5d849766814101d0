/**
 * Launch and attach attributes: their types, and validation at run time (the JSON schema in
 * package.json only helps the editor; a hand-written launch.json can hold anything).
 */
import { isAbsolute, resolve } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';

export type Platform = 'rumprun' | 'mirage' | 'unikraft' | 'generic';
const PLATFORMS: readonly Platform[] = ['rumprun', 'mirage', 'unikraft', 'generic'];

export interface CommonArguments {
  symbols?: string;
  platform?: Platform;
  gdbPath?: string;
  /** Let gdb read the user's init files (off by default). */
  gdbInitFiles?: boolean;
  /** Extra gdb commands run after the symbols are loaded. */
  setupCommands?: string[];
  stopAtEntry?: boolean | string;
  cwd?: string;
}

export interface LaunchArguments extends DebugProtocol.LaunchRequestArguments, CommonArguments {
  kernel: string;
  cmdline?: string;
  memory?: number;
  cpus?: number;
  qemuPath?: string;
  qemuArgs?: string[];
  consoleLog?: string;
}

export interface AttachArguments extends DebugProtocol.AttachRequestArguments, CommonArguments {
  target: string;
  console?: string;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Raw = Record<string, unknown>;

function optString(raw: Raw, key: string): string | undefined {
  const v = raw[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new ConfigError(`"${key}" must be a string.`);
  if (v.includes('\0')) throw new ConfigError(`"${key}" contains a NUL character.`);
  return v;
}

function optBool(raw: Raw, key: string): boolean | undefined {
  const v = raw[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new ConfigError(`"${key}" must be true or false.`);
  return v;
}

function optInt(raw: Raw, key: string, min: number, max: number): number | undefined {
  const v = raw[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ConfigError(`"${key}" must be a whole number from ${min} to ${max}.`);
  }
  return v;
}

function optStringArray(raw: Raw, key: string): string[] | undefined {
  const v = raw[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new ConfigError(`"${key}" must be an array of strings.`);
  return v as string[];
}

function optPath(raw: Raw, key: string, cwd: string): string | undefined {
  const v = optString(raw, key);
  if (v === undefined) return undefined;
  if (v.trim() === '') throw new ConfigError(`"${key}" is empty.`);
  return isAbsolute(v) ? v : resolve(cwd, v);
}

function common(raw: Raw): CommonArguments & { cwd: string } {
  const cwdRaw = optString(raw, 'cwd');
  const cwd = cwdRaw ? resolve(cwdRaw) : process.cwd();
  const platform = optString(raw, 'platform');
  if (platform !== undefined && !PLATFORMS.includes(platform as Platform)) {
    throw new ConfigError(`"platform" must be one of ${PLATFORMS.join(', ')}.`);
  }
  const stopAtEntryRaw = raw.stopAtEntry;
  if (stopAtEntryRaw !== undefined && typeof stopAtEntryRaw !== 'boolean' && typeof stopAtEntryRaw !== 'string') {
    throw new ConfigError('"stopAtEntry" must be true, false, or a function name.');
  }
  return {
    cwd,
    symbols: optPath(raw, 'symbols', cwd),
    platform: platform as Platform | undefined,
    gdbPath: optString(raw, 'gdbPath'),
    gdbInitFiles: optBool(raw, 'gdbInitFiles'),
    setupCommands: optStringArray(raw, 'setupCommands'),
    stopAtEntry: stopAtEntryRaw as boolean | string | undefined,
  };
}

export function validateLaunch(raw: Raw): LaunchArguments {
  const c = common(raw);
  const kernel = optPath(raw, 'kernel', c.cwd);
  if (!kernel) throw new ConfigError('"kernel" is missing: set it to the unikernel image QEMU should boot.');
  return {
    ...c,
    kernel,
    cmdline: optString(raw, 'cmdline'),
    memory: optInt(raw, 'memory', 8, 1024 * 1024),
    cpus: optInt(raw, 'cpus', 1, 64),
    qemuPath: optString(raw, 'qemuPath'),
    qemuArgs: optStringArray(raw, 'qemuArgs'),
    consoleLog: optPath(raw, 'consoleLog', c.cwd),
  };
}

export function validateAttach(raw: Raw): AttachArguments {
  const c = common(raw);
  const target = optString(raw, 'target');
  if (!target || target.trim() === '') {
    throw new ConfigError('"target" is missing: set it to host:port or the Unix socket path of a running GDB stub.');
  }
  return { ...c, target: target.trim(), console: optString(raw, 'console') };
}

/** `host:port` stays as it is; anything else is a Unix socket path, made absolute. */
export function normalizeTarget(target: string, cwd: string): string {
  if (/^[\w.-]*:\d+$/.test(target) || /^\[[0-9a-f:]+\]:\d+$/i.test(target)) return target;
  return isAbsolute(target) ? target : resolve(cwd, target);
}
