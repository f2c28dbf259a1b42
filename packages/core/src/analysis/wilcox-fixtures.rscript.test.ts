/**
 * The committed R reference values are what R produces today: re-runs make-fixtures.R with Rscript
 * (CI installs r-base-core) and compares byte for byte. A missing Rscript fails this test.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const DIR = path.join(__dirname, '../../test-fixtures/wilcox');

describe('wilcox fixtures', () => {
  it('equal what Rscript make-fixtures.R prints now', () => {
    const output = execFileSync('Rscript', ['make-fixtures.R'], { cwd: DIR, encoding: 'utf8', timeout: 120000 });
    const committed = fs.readFileSync(path.join(DIR, 'wilcox-fixtures.json'), 'utf8');
    expect(output).toBe(committed);
  }, 150000);
});
