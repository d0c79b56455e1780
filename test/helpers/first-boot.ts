import { gunzipSync } from 'node:zlib';
import { FIRST_BOOT_DIR, firstBootPlaceholder } from '../../lib/host-runtime/first-boot';

/**
 * The first-boot script a launch template's packed user data (`packedFirstBoot`) runs on the
 * host: the base64 block decoded and gunzip'd, each placeholder replaced by its value as the sed
 * line carries it, a value CloudFormation fills in written as `render(part)` (default: its JSON).
 */
// biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON
export function unpackedFirstBoot(userData: any, render: (part: unknown) => string = (part) => JSON.stringify(part)): string {
  const body = userData['Fn::Base64'];
  // A plain string when no value is left to CloudFormation, else a join.
  const parts: unknown[] = typeof body === 'string' ? [body] : body['Fn::Join'][1];
  const text = parts.map((part) => (typeof part === 'string' ? part : render(part))).join('');
  const block = /<<'FIRST_BOOT_END'\n([A-Za-z0-9+/=\n]*?)\nFIRST_BOOT_END\n/.exec(text);
  if (!block) throw new Error('unpackedFirstBoot: the user data holds no packed first boot');
  let script = gunzipSync(Buffer.from(block[1].replace(/\n/g, ''), 'base64')).toString('utf8');
  const sed = new RegExp(`^gunzip -c ${FIRST_BOOT_DIR}/first-boot.sh.gz \\| (.*) > ${FIRST_BOOT_DIR}/first-boot.sh$`, 'm').exec(text);
  if (!sed) throw new Error('unpackedFirstBoot: no decode line');
  for (const [, index, value] of sed[1].matchAll(/-e 's\|@@FIRST_BOOT_VALUE_(\d+)@@\|(.*?)\|g'/g)) {
    script = script.split(firstBootPlaceholder(Number(index))).join(value);
  }
  return script;
}
