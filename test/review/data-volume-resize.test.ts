import { dataVolumeShrinks, formatShrinks } from '../../scripts/review/data-volume-resize';
import { configWith } from '../helpers/config-fixtures';
import { environmentStacks } from '../helpers/environment-stacks';

// One synth; the other sizes are the same template with the volume's Size changed.
const synthesized = environmentStacks(
  configWith((c) => (c.environments.prod.dataVolume.sizeGiB = 20)),
  'prod',
).dataTemplate.toJSON();
const template = (sizeGiB: number) => {
  const copy = structuredClone(synthesized);
  copy.Resources.DataVolume772801A0.Properties.Size = sizeGiB;
  return copy;
};

test('a data volume that grows passes; one that shrinks is reported with the key to change', () => {
  const [base, grown, shrunk] = [template(20), template(30), template(10)];
  expect(dataVolumeShrinks(base, grown)).toEqual([]);
  expect(dataVolumeShrinks(base, base)).toEqual([]);
  const shrinks = dataVolumeShrinks(base, shrunk);
  expect(shrinks).toEqual([{ logicalId: 'DataVolume772801A0', fromGiB: 20, toGiB: 10 }]);
  expect(formatShrinks('auraxis-prod-data', shrinks)).toEqual([
    'auraxis-prod-data: data volume DataVolume772801A0 would shrink from 20 GiB to 10 GiB; EBS cannot shrink a volume: keep dataVolume.sizeGiB at 20 or more (to move to a smaller volume, restore a backup onto a new one)',
  ]);
});

test('a new volume (absent from the base) is not a shrink', () => {
  expect(dataVolumeShrinks({ Resources: {} }, template(10))).toEqual([]);
});
