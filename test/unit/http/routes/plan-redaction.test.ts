// Nomad's plan diff shows a task's env old and new; secret values must not reach `norn plan`'s output.
import { expect } from 'chai';
import { redactPlanDiff } from '../../../../src/http/routes/app-ops-routes.js';

describe('redactPlanDiff', () => {
  const field = (Name: string, Old: string, New: string) => ({ Type: 'Edited', Name, Old, New, Annotations: null });
  const diff = {
    Type: 'Edited',
    Fields: [field('Priority', '40', '50')],
    TaskGroups: [{
      Name: 'web',
      Tasks: [{
        Name: 'web',
        Fields: [
          field('Env[API_KEY]', 'old-secret', 'new-secret'),
          field('Env[LOG_LEVEL]', 'info', 'debug'),
          { Type: 'Deleted', Name: 'Env[RETIRED]', Old: 'was-maybe-secret', New: '' },
          { Type: 'Added', Name: 'Env[API_KEY_2]', Old: '', New: 'another-secret' },
        ],
      }],
    }],
  };

  it('hides secret and vanished env values in Nomad\'s Env[KEY] fields and keeps spec env and other fields', () => {
    const out = redactPlanDiff(diff, new Set(['LOG_LEVEL']));
    const fields = out.TaskGroups[0]!.Tasks[0]!.Fields;
    expect(fields.map((f) => [f.Name, f.Old, f.New])).to.deep.equal([
      ['Env[API_KEY]', '<redacted>', '<redacted>'],
      ['Env[LOG_LEVEL]', 'info', 'debug'],
      ['Env[RETIRED]', '<redacted>', ''],
      ['Env[API_KEY_2]', '', '<redacted>'],
    ]);
    expect(out.Fields).to.deep.equal(diff.Fields);
    expect(JSON.stringify(out)).not.to.match(/secret"/);
    expect(diff.TaskGroups[0]!.Tasks[0]!.Fields[0]!.Old).to.equal('old-secret');
  });

  it('understands the dotted Env.KEY names as well, and passes null through', () => {
    const out = redactPlanDiff({ Fields: [field('TaskGroups.web.Tasks.web.Env.API_KEY', 'a', 'b'), field('TaskGroups.web.Tasks.web.Env.PORT', '80', '81')] }, new Set(['PORT']));
    expect(out.Fields.map((f) => [f.Old, f.New])).to.deep.equal([['<redacted>', '<redacted>'], ['80', '81']]);
    expect(redactPlanDiff(null, new Set())).to.equal(null);
  });
});
