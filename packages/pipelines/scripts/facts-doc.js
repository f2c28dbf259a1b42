#!/usr/bin/env node
// Writes the facts table (packages/pipelines/src/spinnaker-facts.json) into docs/pipelines.md.
// Run after `npx tsc -b tsconfig.build.json`; packages/pipelines/src/facts.test.ts fails while the doc is stale.
const fs = require('fs');
const path = require('path');
const { withFactsTable } = require('../dist/facts');
const doc = path.resolve(__dirname, '../../../docs/pipelines.md');
fs.writeFileSync(doc, withFactsTable(fs.readFileSync(doc, 'utf8')));
console.log(`wrote the facts table into ${doc}`);
