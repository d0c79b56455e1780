import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { localAwsCliEnv } from './aws-cli-env';

/*
 * Local stand-ins for what the host's lifecycle programs (scripts/host/host-boot.sh, host-stop.sh,
 * interruption-watch.sh) talk to, on one port:
 *  - IMDSv2: PUT /latest/api/token, then GET /latest/meta-data/... carrying the token (a read
 *    without it answers 401, as an instance with HttpTokens=required does);
 *  - EC2 (Query protocol, Version 2016-11-15): AssociateAddress, DetachVolume, DescribeVolumes;
 *  - Auto Scaling (Query protocol, Version 2011-01-01): CompleteLifecycleAction;
 *  - Route53 (REST XML): ChangeResourceRecordSets;
 *  - SSM (JSON protocol, X-Amz-Target AmazonSSM.*): SendCommand (its parameters flattened to
 *    `Parameters.<name>` and `CloudWatchOutputConfig.<field>`).
 * The AWS CLI is pointed at it with `--endpoint-url`; IMDS_URL points the scripts' curl at it.
 * Every API call is recorded (action and parameters) so a test asserts what was asked; signatures
 * are not checked.
 */

/** One API call the server received. */
export interface ApiCall {
  readonly service: 'ec2' | 'autoscaling' | 'route53' | 'ssm';
  readonly action: string;
  readonly params: Readonly<Record<string, string>>;
}

/** What the instance metadata service reports; change it between runs to simulate events. */
export interface Metadata {
  instanceId: string;
  publicIpv4?: string;
  /** `meta-data/autoscaling/target-lifecycle-state`; undefined: 404 (not in a group). */
  targetLifecycleState?: string;
  /** `meta-data/spot/instance-action` as EC2 writes it; undefined: 404 (no interruption). */
  spotInstanceAction?: { action: string; time: string };
}

const EC2_NS = 'http://ec2.amazonaws.com/doc/2016-11-15/';
const ASG_NS = 'http://autoscaling.amazonaws.com/doc/2011-01-01/';
const R53_NS = 'https://route53.amazonaws.com/doc/2013-04-01/';

export class HostApis {
  private server?: Server;
  private port = 0;
  private token = '';
  readonly calls: ApiCall[] = [];
  /** Tokenless or wrong-token metadata reads (answered 401). */
  rejectedMetadataReads = 0;
  readonly metadata: Metadata = { instanceId: 'i-0123456789abcdef0', targetLifecycleState: 'InService' };
  /** Volume states EC2 reports; DetachVolume moves `in-use` to `detaching`. */
  readonly volumes = new Map<string, string>();
  /** DescribeVolumes calls a detaching volume stays `detaching` for; Infinity: never detaches. */
  detachingFor = 1;
  /** Actions that answer an error: action → error code. */
  readonly failing = new Map<string, string>();

  constructor(readonly dir: string) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The AWS CLI's environment: fake credentials, no profile, no real instance metadata. */
  get awsEnv(): Record<string, string> {
    return {
      ...localAwsCliEnv(this.dir),
      AWS_CMD: `aws --endpoint-url ${this.endpoint}`,
      IMDS_URL: this.endpoint,
    };
  }

  /** The calls of one action, in order. */
  callsOf(action: string): ApiCall[] {
    return this.calls.filter((call) => call.action === action);
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

  private handle(req: IncomingMessage, res: ServerResponse): void {
    let raw = '';
    req.on('data', (chunk) => {
      raw += chunk;
    });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname.startsWith('/latest/')) return this.metadataRequest(req, url.pathname, res);
      const zone = /^\/2013-04-01\/hostedzone\/([^/]+)\/rrset\/?$/.exec(url.pathname);
      if (zone && req.method === 'POST') return this.route53(zone[1], raw, res);
      const target = req.headers['x-amz-target'];
      if (typeof target === 'string' && target.startsWith('AmazonSSM.')) return this.ssm(target.slice('AmazonSSM.'.length), raw, res);
      const params = Object.fromEntries(new URLSearchParams(raw));
      const service = params.Version === '2011-01-01' ? 'autoscaling' : 'ec2';
      this.calls.push({ service, action: params.Action, params });
      const failure = this.failing.get(params.Action);
      if (failure) return this.queryError(res, service, failure, `${params.Action} refused by the test server`);
      if (service === 'autoscaling') {
        if (params.Action !== 'CompleteLifecycleAction') return this.queryError(res, service, 'InvalidAction', `${params.Action} is not implemented`);
        return this.xml(
          res,
          200,
          `<CompleteLifecycleActionResponse xmlns="${ASG_NS}"><CompleteLifecycleActionResult/><ResponseMetadata><RequestId>r-${this.calls.length}</RequestId></ResponseMetadata></CompleteLifecycleActionResponse>`,
        );
      }
      return this.ec2(params, res);
    });
  }

  private metadataRequest(req: IncomingMessage, path: string, res: ServerResponse) {
    if (req.method === 'PUT' && path === '/latest/api/token') {
      if (!req.headers['x-aws-ec2-metadata-token-ttl-seconds']) return this.text(res, 400, 'missing TTL');
      this.token = `token-${Date.now()}-${Math.random()}`;
      return this.text(res, 200, this.token);
    }
    if (!this.token || req.headers['x-aws-ec2-metadata-token'] !== this.token) {
      this.rejectedMetadataReads += 1;
      return this.text(res, 401, 'Unauthorized');
    }
    const m = this.metadata;
    const values: Record<string, string | undefined> = {
      '/latest/meta-data/instance-id': m.instanceId,
      '/latest/meta-data/public-ipv4': m.publicIpv4,
      '/latest/meta-data/autoscaling/target-lifecycle-state': m.targetLifecycleState,
      '/latest/meta-data/spot/instance-action': m.spotInstanceAction && JSON.stringify(m.spotInstanceAction),
    };
    const value = values[path];
    return value === undefined ? this.text(res, 404, 'Not Found') : this.text(res, 200, value);
  }

  private ec2(params: Record<string, string>, res: ServerResponse) {
    const id = `r-${this.calls.length}`;
    switch (params.Action) {
      case 'AssociateAddress':
        return this.xml(
          res,
          200,
          `<AssociateAddressResponse xmlns="${EC2_NS}"><requestId>${id}</requestId><return>true</return><associationId>eipassoc-1</associationId></AssociateAddressResponse>`,
        );
      case 'DetachVolume': {
        const volume = params.VolumeId;
        if (this.volumes.get(volume) !== 'in-use')
          return this.queryError(res, 'ec2', 'IncorrectState', `Volume '${volume}' is in the '${this.volumes.get(volume) ?? 'unknown'}' state.`);
        this.volumes.set(volume, 'detaching');
        this.describesLeft.set(volume, this.detachingFor);
        return this.xml(
          res,
          200,
          `<DetachVolumeResponse xmlns="${EC2_NS}"><requestId>${id}</requestId><volumeId>${volume}</volumeId><instanceId>${params.InstanceId}</instanceId><device>/dev/sdf</device><status>detaching</status><attachTime>2026-01-01T00:00:00.000Z</attachTime></DetachVolumeResponse>`,
        );
      }
      case 'DescribeVolumes': {
        const volume = params['VolumeId.1'];
        let state = this.volumes.get(volume);
        if (state === undefined) return this.queryError(res, 'ec2', 'InvalidVolume.NotFound', `The volume '${volume}' does not exist.`);
        if (state === 'detaching') {
          const left = (this.describesLeft.get(volume) ?? 0) - 1;
          this.describesLeft.set(volume, left);
          if (left < 0) this.volumes.set(volume, 'available');
          state = this.volumes.get(volume);
        }
        return this.xml(
          res,
          200,
          `<DescribeVolumesResponse xmlns="${EC2_NS}"><requestId>${id}</requestId><volumeSet><item><volumeId>${volume}</volumeId><size>20</size><availabilityZone>us-east-1a</availabilityZone><status>${state}</status><createTime>2026-01-01T00:00:00.000Z</createTime><volumeType>gp3</volumeType><encrypted>true</encrypted><attachmentSet/></item></volumeSet></DescribeVolumesResponse>`,
        );
      }
      default:
        return this.queryError(res, 'ec2', 'InvalidAction', `${params.Action} is not implemented by the test server`);
    }
  }

  private readonly describesLeft = new Map<string, number>();

  private ssm(action: string, body: string, res: ServerResponse): void {
    const input = JSON.parse(body || '{}') as Record<string, unknown>;
    const params: Record<string, string> = {};
    for (const [key, value] of Object.entries(input)) {
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        for (const [k, v] of Object.entries(value)) params[`${key}.${k}`] = [v].flat().join(',');
      } else params[key] = [value].flat().join(',');
    }
    this.calls.push({ service: 'ssm', action, params });
    const failure = this.failing.get(action);
    res.setHeader('content-type', 'application/x-amz-json-1.1');
    if (failure) {
      res.statusCode = 400;
      res.end(JSON.stringify({ __type: failure, message: `${action} refused by the test server` }));
      return;
    }
    if (action !== 'SendCommand') {
      res.statusCode = 400;
      res.end(JSON.stringify({ __type: 'InvalidAction', message: `${action} is not implemented by the test server` }));
      return;
    }
    res.statusCode = 200;
    res.end(JSON.stringify({ Command: { CommandId: `cmd-${this.calls.length}`, DocumentName: input.DocumentName, Status: 'Pending' } }));
  }

  private route53(zoneId: string, body: string, res: ServerResponse) {
    const tag = (name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(body)?.[1] ?? '';
    const params = { HostedZoneId: zoneId, Action: tag('Action'), Name: tag('Name'), Type: tag('Type'), TTL: tag('TTL'), Value: tag('Value') };
    this.calls.push({ service: 'route53', action: 'ChangeResourceRecordSets', params });
    if (this.failing.has('ChangeResourceRecordSets')) {
      return this.xml(
        res,
        400,
        `<ErrorResponse xmlns="${R53_NS}"><Error><Type>Sender</Type><Code>${this.failing.get('ChangeResourceRecordSets')}</Code><Message>refused by the test server</Message></Error><RequestId>r</RequestId></ErrorResponse>`,
      );
    }
    return this.xml(
      res,
      200,
      `<?xml version="1.0" encoding="UTF-8"?><ChangeResourceRecordSetsResponse xmlns="${R53_NS}"><ChangeInfo><Id>/change/C${this.calls.length}</Id><Status>PENDING</Status><SubmittedAt>2026-01-01T00:00:00.000Z</SubmittedAt></ChangeInfo></ChangeResourceRecordSetsResponse>`,
    );
  }

  private queryError(res: ServerResponse, service: 'ec2' | 'autoscaling', code: string, message: string) {
    if (service === 'ec2') {
      return this.xml(
        res,
        400,
        `<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>r</RequestID></Response>`,
      );
    }
    return this.xml(
      res,
      400,
      `<ErrorResponse xmlns="${ASG_NS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>r</RequestId></ErrorResponse>`,
    );
  }

  private xml(res: ServerResponse, status: number, text: string): void {
    res.writeHead(status, { 'Content-Type': 'text/xml', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  private text(res: ServerResponse, status: number, text: string): void {
    res.writeHead(status, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }
}
