// Runs one actions/github-script `script:` body the way the action does (an async function
// body with github, context, core and require in scope) against a recorded fake of the GitHub
// REST API, and prints every call it made as JSON. Used by tests/gitops/test_github_scripts.py.
//   node github_script_harness.js SCRIPT_FILE STATE_JSON_FILE
'use strict';
const fs = require('fs');

async function main() {
  const script = fs.readFileSync(process.argv[2], 'utf8');
  const state = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
  const calls = [];
  const record = (name, result) => async (args) => {
    calls.push([name, args]);
    if (name === 'issues.removeLabel' && !(state.labels || []).includes(args.name)) {
      const err = new Error('Label does not exist');
      err.status = 404;
      throw err;
    }
    return { data: result === undefined ? {} : result };
  };
  const issues = {
    listComments: record('issues.listComments', state.comments || []),
    listForRepo: record('issues.listForRepo', state.issues || []),
    createComment: record('issues.createComment'),
    updateComment: record('issues.updateComment'),
    addLabels: record('issues.addLabels'),
    removeLabel: record('issues.removeLabel'),
    create: record('issues.create'),
    update: record('issues.update'),
  };
  const github = {
    rest: {
      issues,
      repos: {
        listPullRequestsAssociatedWithCommit: record('repos.listPulls', state.pulls || []),
      },
      actions: {
        listWorkflowRunsForRepo: record('actions.listRuns', { workflow_runs: state.runs || [] }),
      },
    },
    paginate: async (fn, args) => (await fn(args)).data,
  };
  const context = {
    repo: { owner: 'acme', repo: 'models' },
    issue: { number: 7 },
    serverUrl: 'https://github.com',
    runId: 42,
    sha: 'abc123',
  };
  const core = {
    warning: (m) => calls.push(['core.warning', String(m)]),
    setOutput: (k, v) => calls.push(['core.setOutput', { [k]: v }]),
    setFailed: (m) => calls.push(['core.setFailed', String(m)]),
  };
  const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
  const fn = new AsyncFunction('github', 'context', 'core', 'require', script);
  await fn(github, context, core, require);
  process.stdout.write(JSON.stringify(calls));
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err));
  process.exit(1);
});
