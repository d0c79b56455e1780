import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { localAwsCliEnv } from './aws-cli-env';

/*
 * A small SSM Parameter Store endpoint speaking the AWS JSON 1.1 protocol (POST /, header
 * `X-Amz-Target: AmazonSSM.<Action>`), for the AWS CLI the host scripts run, pointed at it with
 * `--endpoint-url`. It keeps every version of every parameter, as SSM does, and records each
 * request so a test can assert what was asked (never how it was signed: signatures are not checked).
 * Only the actions the host scripts and tests use; anything else answers 400 like an unknown action.
 */

/** One stored version of a parameter. */
export interface StoredVersion {
  readonly Name: string;
  readonly Type: 'String' | 'SecureString' | 'StringList';
  readonly Value: string;
  readonly Version: number;
  readonly LastModifiedDate: number;
  readonly LastModifiedUser: string;
  readonly Labels: string[];
}

/** A request the server received: the action and its JSON body. */
export interface RecordedRequest {
  readonly action: string;
  // biome-ignore lint/suspicious/noExplicitAny: the AWS JSON body as sent
  readonly body: Record<string, any>;
}

class SsmError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/** What SSM returns for a SecureString read without decryption: ciphertext, never the value. */
const CIPHERTEXT = 'AQICAHh-encrypted-blob-not-the-value';

export class SsmServer {
  private server?: Server;
  private readonly parameters = new Map<string, StoredVersion[]>();
  /** Every request in order. */
  readonly requests: RecordedRequest[] = [];
  /** Most results per GetParametersByPath page; small so the CLI must follow NextToken. */
  pageSize = 2;
  /** When set, every request answers this error type (e.g. `AccessDeniedException`). */
  failWith?: string;
  private port = 0;

  constructor(readonly dir: string) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Environment for the AWS CLI: fake credentials, no profile or instance metadata lookups. */
  get awsEnv(): Record<string, string> {
    return localAwsCliEnv(this.dir);
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Writes a new version (what PutParameter with Overwrite does); returns the version number. */
  put(name: string, value: string, options: { type?: StoredVersion['Type']; user?: string } = {}): number {
    const versions = this.parameters.get(name) ?? [];
    const version = versions.length + 1;
    versions.push({
      Name: name,
      Type: options.type ?? 'SecureString',
      Value: value,
      Version: version,
      LastModifiedDate: Date.now() / 1000,
      LastModifiedUser: options.user ?? 'arn:aws:iam::123456789012:user/test',
      Labels: [],
    });
    this.parameters.set(name, versions);
    return version;
  }

  /** The newest version of a parameter, or undefined. */
  latest(name: string): StoredVersion | undefined {
    return this.parameters.get(name)?.at(-1);
  }

  /** Removes a parameter and its history. */
  delete(name: string): void {
    this.parameters.delete(name);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    let raw = '';
    req.on('data', (chunk) => {
      raw += chunk;
    });
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const action = target.replace(/^AmazonSSM\./, '');
      let body: Record<string, unknown> = {};
      try {
        body = raw ? JSON.parse(raw) : {};
      } catch {
        return this.reply(res, 400, { __type: 'SerializationException', message: 'body is not JSON' });
      }
      this.requests.push({ action, body });
      try {
        if (this.failWith) throw new SsmError(this.failWith, `${action} refused by the test server`);
        this.reply(res, 200, this.dispatch(action, body));
      } catch (error) {
        if (!(error instanceof SsmError)) throw error;
        this.reply(res, 400, { __type: error.type, message: error.message });
      }
    });
  }

  private reply(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': 'application/x-amz-json-1.1',
      'Content-Length': Buffer.byteLength(text),
      'x-amzn-RequestId': `req-${this.requests.length}`,
    });
    res.end(text);
  }

  // biome-ignore lint/suspicious/noExplicitAny: the AWS JSON body as sent
  private dispatch(action: string, body: Record<string, any>): unknown {
    switch (action) {
      case 'GetParametersByPath':
        return this.getParametersByPath(body);
      case 'GetParameter':
        return { Parameter: this.view(this.resolve(body.Name), body.WithDecryption === true) };
      case 'GetParameters': {
        const found: unknown[] = [];
        const invalid: string[] = [];
        for (const name of body.Names ?? []) {
          try {
            found.push(this.view(this.resolve(name), body.WithDecryption === true));
          } catch {
            invalid.push(name);
          }
        }
        return { Parameters: found, InvalidParameters: invalid };
      }
      case 'PutParameter': {
        const exists = this.parameters.has(body.Name);
        if (exists && body.Overwrite !== true) throw new SsmError('ParameterAlreadyExists', `The parameter ${body.Name} already exists.`);
        if (typeof body.Value !== 'string' || body.Value.length === 0) throw new SsmError('ValidationException', 'Value must not be empty');
        return { Version: this.put(body.Name, body.Value, { type: body.Type ?? this.latest(body.Name)?.Type }), Tier: 'Standard' };
      }
      case 'GetParameterHistory': {
        const versions = this.parameters.get(body.Name);
        if (!versions) throw new SsmError('ParameterNotFound', `Parameter ${body.Name} not found.`);
        return { Parameters: versions.map((v) => this.view(v, body.WithDecryption === true)) };
      }
      case 'LabelParameterVersion': {
        const version = this.resolve(`${body.Name}${body.ParameterVersion ? `:${body.ParameterVersion}` : ''}`);
        for (const v of this.parameters.get(body.Name) ?? []) v.Labels.splice(0, v.Labels.length, ...v.Labels.filter((l) => !body.Labels.includes(l)));
        version.Labels.push(...body.Labels);
        return { InvalidLabels: [], ParameterVersion: version.Version };
      }
      default:
        throw new SsmError('InvalidAction', `${action} is not implemented by the test SSM server`);
    }
  }

  // biome-ignore lint/suspicious/noExplicitAny: the AWS JSON body as sent
  private getParametersByPath(body: Record<string, any>): unknown {
    const path = String(body.Path ?? '');
    const prefix = path.endsWith('/') ? path : `${path}/`;
    const names = [...this.parameters.keys()]
      .filter((name) => name.startsWith(prefix) && (body.Recursive === true || !name.slice(prefix.length).includes('/')))
      .sort();
    const start = body.NextToken ? Number(body.NextToken) : 0;
    const size = Math.min(Number(body.MaxResults ?? 10), this.pageSize);
    const page = names.slice(start, start + size);
    const next = start + size < names.length ? String(start + size) : undefined;
    return {
      Parameters: page.map((name) => this.view(this.latest(name) as StoredVersion, body.WithDecryption === true)),
      ...(next ? { NextToken: next } : {}),
    };
  }

  /** `name`, `name:version` or `name:label` to a stored version. */
  private resolve(selector: string): StoredVersion {
    const [name, which] = selector.split(':');
    const versions = this.parameters.get(name);
    const found = which === undefined ? versions?.at(-1) : versions?.find((v) => String(v.Version) === which || v.Labels.includes(which));
    if (!found) throw new SsmError(which === undefined ? 'ParameterNotFound' : 'ParameterVersionNotFound', `Parameter ${selector} not found.`);
    return found;
  }

  private view(v: StoredVersion, decrypt: boolean): Record<string, unknown> {
    return {
      Name: v.Name,
      Type: v.Type,
      Value: v.Type === 'SecureString' && !decrypt ? CIPHERTEXT : v.Value,
      Version: v.Version,
      LastModifiedDate: v.LastModifiedDate,
      LastModifiedUser: v.LastModifiedUser,
      Labels: v.Labels,
      ARN: `arn:aws:ssm:us-east-1:123456789012:parameter${v.Name}`,
      DataType: 'text',
    };
  }
}
