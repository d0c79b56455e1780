import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type IPolicyValidationContext, type IPolicyValidationPlugin, type PolicyValidationPluginReport, Validations } from 'aws-cdk-lib';

/*
 * cdk-nag's AWS Solutions pack checks every resource against rules for some forty services, and each
 * rule's `instanceof` check loads that service's aws-cdk-lib module: about a second of `npm run synth`
 * goes to loading cdk-nag and modules of services this project never uses, against some 50 ms of
 * checking. What the pack reports is a function of the resources (the templates render them), the
 * construct paths it names, the acknowledgements on the tree (which it reads itself) and the versions
 * of cdk-nag and aws-cdk-lib. This plugin keys the pack's report on exactly those, runs the pack only
 * when the key is new, and replays the stored report otherwise. CDK handles the report the same way
 * either way: a finding fails synth on the first run and on every run after.
 */

export interface CachedNagPackProps {
  /** The pack's name as its report shows it, e.g. `AwsSolutions` (known without loading cdk-nag). */
  readonly name: string;
  /** Builds the pack; called only when the report is not cached, so cdk-nag loads only then. */
  readonly load: () => IPolicyValidationPlugin;
  /** Directory of the cache, one JSON report per key (created when missing). */
  readonly cacheDir: string;
}

/** A cdk-nag pack whose report is reused while the app's templates, paths and acknowledgements stay the same. */
export class CachedNagPack implements IPolicyValidationPlugin {
  public readonly name: string;
  /** Whether the last `validate` ran the pack (`checked`) or replayed a stored report (`replayed`). */
  public lastRun?: 'checked' | 'replayed';
  private readonly load: () => IPolicyValidationPlugin;
  private readonly cacheDir: string;

  constructor(props: CachedNagPackProps) {
    this.name = props.name;
    this.load = props.load;
    this.cacheDir = props.cacheDir;
  }

  public validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    // Without the tree the acknowledgements cannot be part of the key: check, never replay.
    if (!context.appConstruct) {
      this.lastRun = 'checked';
      return this.load().validate(context);
    }
    const file = join(this.cacheDir, `${this.cacheKey(context)}.json`);
    const cached = readReport(file);
    if (cached) {
      this.lastRun = 'replayed';
      return cached;
    }
    const report = this.load().validate(context);
    this.lastRun = 'checked';
    mkdirSync(this.cacheDir, { recursive: true });
    // Written aside and renamed, so a synth killed mid-write cannot leave a truncated entry.
    writeFileSync(`${file}.${process.pid}.tmp`, JSON.stringify(report));
    renameSync(`${file}.${process.pid}.tmp`, file);
    return report;
  }

  private cacheKey(context: IPolicyValidationContext): string {
    const hash = createHash('sha256').update(JSON.stringify([this.name, CDK_NAG_VERSION, CDK_VERSION]));
    for (const stack of context.stackTemplates) hash.update(`\0${stack.stackConstructPath}\0`).update(readFileSync(stack.templatePath));
    // Every construct's path (the report names them) and the acknowledgements the pack reads up the tree.
    for (const construct of context.appConstruct.node.findAll()) {
      const acknowledged = construct.node.metadata.filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((entry) => entry.data);
      hash.update(`\0${construct.node.path}\0${JSON.stringify(acknowledged)}`);
    }
    return hash.digest('hex');
  }
}

function readReport(file: string): PolicyValidationPluginReport | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined; // not cached yet (or unreadable): check again
  }
}

/** A new cdk-nag may judge the same resources differently. */
const CDK_NAG_VERSION: string = require('cdk-nag/package.json').version;
/** The L1 classes the rules test against, and the acknowledgement mechanism, ship with aws-cdk-lib. */
const CDK_VERSION: string = require('aws-cdk-lib/package.json').version;
