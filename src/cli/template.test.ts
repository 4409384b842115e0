import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderTemplate } from './template.ts';

describe('--format templates', () => {
  const v = { State: { ExitCode: 3, OOMKilled: false }, Name: '/web', Config: { Env: ['A=1'] } };
  it('renders fields and json', () => {
    assert.equal(renderTemplate('{{.State.ExitCode}} {{.Name}}', v), '3 /web');
    assert.equal(renderTemplate('{{json .Config.Env}}', v), '["A=1"]');
    assert.equal(renderTemplate('{{.State.OOMKilled}}', v), 'false');
    assert.equal(renderTemplate('{{.Config.Env}}', v), '[A=1]');
  });
  it('refuses what it cannot render, naming it', () => {
    assert.throws(() => renderTemplate('{{range .X}}', v), /unsupported action \{\{range \.X\}\}/);
  });
});
