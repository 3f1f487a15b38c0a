/**
 * Validation of a catalog service's `driver_config` (jsonb, edited by operators), so a typo
 * fails when the driver is created with a message naming the driver and the key, instead of
 * surfacing later as a provisioning failure.
 */

/** A driver_config that does not fit its driver's shape. Permanent: retrying cannot fix it. */
export class DriverConfigError extends Error {
  override name = 'DriverConfigError';
}

/** Reads and checks the keys of one driver's config object. */
export class ConfigReader {
  constructor(
    private readonly driver: string,
    private readonly config: Record<string, unknown>,
  ) {}

  fail(key: string, problem: string): never {
    throw new DriverConfigError(`${this.driver} driver config: "${key}" ${problem}`);
  }

  /** Rejects keys the driver does not know: a misspelt optional key would otherwise be ignored. */
  allowOnly(keys: readonly string[]): void {
    const unknown = Object.keys(this.config).filter((key) => !keys.includes(key));
    if (unknown.length > 0) {
      throw new DriverConfigError(
        `${this.driver} driver config: unknown key(s) ${unknown.map((k) => `"${k}"`).join(', ')}; ` + `allowed: ${keys.join(', ')}`,
      );
    }
  }

  requiredString(key: string): string {
    const value = this.optionalString(key);
    if (value === undefined) this.fail(key, 'is required');
    return value;
  }

  optionalString(key: string): string | undefined {
    const value = this.config[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string' || value.trim() === '') this.fail(key, 'must be a non-empty string');
    return value;
  }

  optionalNumber(key: string, min: number, max: number): number | undefined {
    const value = this.config[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
      this.fail(key, `must be a number from ${min} to ${max}`);
    }
    return value;
  }

  optionalInteger(key: string, min: number, max: number): number | undefined {
    const value = this.optionalNumber(key, min, max);
    if (value !== undefined && !Number.isInteger(value)) this.fail(key, 'must be an integer');
    return value;
  }

  optionalBoolean(key: string): boolean | undefined {
    const value = this.config[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'boolean') this.fail(key, 'must be true or false');
    return value;
  }

  optionalEnum<T extends string>(key: string, allowed: readonly T[]): T | undefined {
    const value = this.config[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
      this.fail(key, `must be one of ${allowed.join(', ')}`);
    }
    return value as T;
  }

  /** A string that parses as an absolute URL whose scheme is one of `protocols` (e.g. "https:"). */
  requiredUrl(key: string, protocols: readonly string[]): string {
    const value = this.requiredString(key);
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      this.fail(key, 'must be an absolute URL');
    }
    if (!protocols.includes(url.protocol)) {
      this.fail(key, `must use ${protocols.map((p) => p.replace(/:$/, '://')).join(' or ')}`);
    }
    return value;
  }
}
