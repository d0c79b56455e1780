import { parseCpuMillis, parseMemoryBytes } from '../../lib/quantities';

/* One definition of resource quantities, over one table of good and bad shapes. */

test.each<[string, number | undefined]>([
  ['250m', 250],
  ['1', 1000],
  ['0.5', 500],
  ['1.25', 1250],
  ['250', 250000],
  ['m', undefined],
  ['1.5m', undefined],
  ['1Gi', undefined],
  ['', undefined],
])('CPU %j → %s millicores', (quantity, millis) => {
  expect(parseCpuMillis(quantity)).toBe(millis);
});

test.each<[string, number | undefined]>([
  ['256Mi', 256 * 2 ** 20],
  ['1Gi', 2 ** 30],
  ['1G', undefined],
  ['0Mi', undefined],
  ['0.5Gi', undefined],
  ['512', undefined],
])('memory %j → %s bytes', (quantity, bytes) => {
  expect(parseMemoryBytes(quantity)).toBe(bytes);
});
