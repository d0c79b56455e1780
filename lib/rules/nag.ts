/*
 * The parts of cdk-nag the project's rules build on, from the two files that define them. cdk-nag's
 * index loads every rule pack (about half a second); `npm run synth` loads it only when the AWS
 * Solutions report is not cached (lib/private/cached-nag-pack.ts), so the project's own pack must
 * not load it either. cdk-nag declares no `exports` map: these paths are its published files.
 */
export { NagPack, type NagPackProps } from 'cdk-nag/lib/nag-pack';
export { NagMessageLevel, NagRuleCompliance, type NagRuleResult } from 'cdk-nag/lib/nag-rules';
