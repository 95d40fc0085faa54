'use strict';
// SDK conformance: the Node SDK `@alicloud/fnf-2019-03-15` (on `@alicloud/pop-core`) against a
// live fnf-server — its actions of the base API: flows, executions, history and task reports.
// (Its schedule actions are in node_full_api.js; it has no StartSyncExecution.)
//
//   FNF_ENDPOINT=127.0.0.1:8089 FNF_ACCESS_KEY_ID=… FNF_ACCESS_KEY_SECRET=… FNF_RUN_ID=r1 \
//   FNF_SDK_NODE_MODULES=target/sdk-node/node_modules node tests/sdk/node.js
//
// What this SDK does on the wire (read from its installed source, 1.2.0 on pop-core 1.8.0):
// * `new Client({endpoint: 'http://host:port', accessKeyId, accessKeySecret})` — the class
//   extends pop-core's RPCClient and sets apiVersion 2019-03-15 itself; the endpoint must
//   carry the scheme (the constructor throws otherwise).
// * Methods are the lower-camel action names, `client.describeFlow(params, options)`; each
//   checks its required parameters and calls `this.request(Action, params, options)`.
//   Create*/Update*/Start*/Stop*/Report* set options.method = 'POST' (mutating the options
//   object passed in: reusing one options object for a later GET call turns it into a POST);
//   everything else, DeleteFlow and DeleteSchedule included, is GET.
// * GET: every parameter in the query. POST: every parameter, Action, AccessKeyId, Signature
//   and the rest of the common ones included, in an x-www-form-urlencoded body; the URL is
//   `http://host:port/` with no query at all.
// * Parameter names get their first letter upper-cased (`flowName` → `FlowName`); arrays are
//   flattened to `Name.1.Key`, so structures must be passed as JSON strings; booleans become
//   `true`/`false`; encoding is encodeURIComponent plus `!'()*` escaped, so spaces are %20.
// * Format=JSON, SignatureNonce = md5 hex of hostname+pid+random, headers x-acs-action,
//   x-acs-version, x-sdk-client, user-agent; keep-alive agent.
// * Default connect AND read timeout is 3 s (httpx), not 10 s: any answer slower than 3 s —
//   a DescribeExecution long poll — needs options.timeout (ms).
// * The answer is parsed with json-bigint whatever the status; a body with a `Code` not in
//   {200, '200', 'OK', 'Success', 'success'} becomes an Error named `<Code>Error` with .code,
//   .data (the body), .url, .entry.response.statusCode. A non-JSON body throws a SyntaxError.

const {
  RFC3339, TERMINAL, apiError, callbackSm, findKey, passSm, PASS_FDL, poll, run, sdkRequire, waitSm,
} = require('./node_common');

const Client = sdkRequire('@alicloud/fnf-2019-03-15');

const SCRIPT = 'node';
const UNICODE_INPUT = '{"msg": "héllo wörld * ~ /+&=%!\'()", "n": 1}';

function makeClient(env, overrides = {}) {
  return new Client({
    endpoint: `http://${env.endpoint}`,
    accessKeyId: overrides.accessKeyId || env.accessKeyId,
    accessKeySecret: overrides.accessKeySecret || env.accessKeySecret,
  });
}

async function main(env, c) {
  const client = makeClient(env);
  const flows = [];
  const missing = env.name('missing');

  async function createFlow(name, definition, extra = {}) {
    c.at(`CreateFlow ${name}`);
    const body = await client.createFlow({
      Name: name, Definition: definition, Description: `${name} flow`, Type: 'FDL', ...extra,
    });
    flows.push(name);
    return body;
  }

  function describe(flow, execution, extra = {}, options = {}) {
    c.at(`DescribeExecution ${flow}/${execution}`);
    return client.describeExecution({ FlowName: flow, ExecutionName: execution, ...extra }, options);
  }

  const waitTerminal = (flow, execution, name) => poll(c, name, () => describe(flow, execution),
    (b) => TERMINAL.includes(b.Status));

  function start(flow, name, input) {
    c.at(`StartExecution ${flow}/${name}`);
    const params = { FlowName: flow };
    if (name !== undefined) params.ExecutionName = name;
    if (input !== undefined) params.Input = input;
    return client.startExecution(params);
  }

  function listExecutions(flow, extra = {}) {
    c.at(`ListExecutions ${flow}`);
    return client.listExecutions({ FlowName: flow, ...extra });
  }

  async function allEvents(flow, execution) {
    let events = [];
    let token;
    for (let i = 0; i < 100; i++) {
      c.at(`GetExecutionHistory ${flow}/${execution}`);
      const params = { FlowName: flow, ExecutionName: execution, Limit: 100 };
      if (token) params.NextToken = token;
      const page = await client.getExecutionHistory(params);
      events = events.concat(page.Events);
      token = page.NextToken;
      if (!token) return events;
    }
    return c.fail('GetExecutionHistory pages', 'more than 100 pages');
  }

  // --- CreateFlow / DescribeFlow / UpdateFlow ----------------------------------------------
  const pName = env.name('pass');
  const pDef = passSm(pName);
  let body = await createFlow(pName, pDef, { Description: 'pass flow' });
  c.requestId('CreateFlow (POST, all in the body) RequestId', body.RequestId);
  c.eq('CreateFlow returns the flow object',
    [body.Name, body.Definition, body.Description, body.Type, body.ExecutionMode],
    [pName, pDef, 'pass flow', 'FDL', 'Standard']);
  c.time('CreateFlow CreatedTime', body.CreatedTime);
  c.check('CreateFlow success body has no Code member', !('Code' in body), JSON.stringify(body));
  const pId = body.Id;

  const fName = env.name('fdl');
  body = await createFlow(fName, PASS_FDL, { Type: 'DEFAULT' });
  c.eq('CreateFlow FDL, Type DEFAULT', [body.Definition, body.Type], [PASS_FDL, 'DEFAULT']);

  await c.rejects('CreateFlow existing name -> FlowAlreadyExistsError (409)',
    () => client.createFlow({ Name: pName, Definition: pDef, Description: '', Type: 'FDL' }),
    apiError('FlowAlreadyExists', 409, [pName]));
  await c.rejects('CreateFlow bad name -> InvalidArgument naming Name',
    () => client.createFlow({ Name: 'bad name', Definition: PASS_FDL, Description: '', Type: 'FDL' }),
    apiError('InvalidArgument', 400, ['Name']));

  c.at('DescribeFlow');
  body = await client.describeFlow({ Name: pName });
  c.eq('DescribeFlow (GET, all in the query) returns the flow', [body.Name, body.Id, body.Definition], [pName, pId, pDef]);
  await c.rejects('DescribeFlow missing flow -> FlowNotExistsError (404)',
    () => client.describeFlow({ Name: missing }),
    apiError('FlowNotExists', 404, [missing]));
  // pop-core upper-cases the first letter of every parameter name before signing (the
  // generated methods check required parameters by their exact PascalCase name first).
  body = await client.describeFlow({ Name: pName, requestId: 'NODE-SDK-REQUEST-ID-1' });
  c.eq('A lower-camel parameter is sent PascalCase: RequestId echoed', [body.Name, body.RequestId],
    [pName, 'NODE-SDK-REQUEST-ID-1']);

  const pDef2 = passSm(pName, 2);
  c.at('UpdateFlow');
  body = await client.updateFlow({ Name: pName, Definition: pDef2, Description: "updated: spaces & symbols +*~!'()" });
  c.eq('UpdateFlow changes Definition and Description', [body.Definition, body.Description],
    [pDef2, "updated: spaces & symbols +*~!'()"]);
  c.eq('UpdateFlow keeps the Id', body.Id, pId);
  await c.rejects('UpdateFlow missing flow -> FlowNotExistsError',
    () => client.updateFlow({ Name: missing, Description: 'x' }),
    apiError('FlowNotExists', 404));

  // --- ListFlows -------------------------------------------------------------------------
  const listed = [1, 2, 3].map((i) => env.name(`list_${i}`));
  for (const name of listed) await createFlow(name, passSm(name));
  c.at('ListFlows');
  body = await client.listFlows({ Limit: 1 });
  c.check('ListFlows Limit=1 gives one flow and a NextToken', body.Flows.length === 1 && !!body.NextToken,
    JSON.stringify(body));
  const prefix = env.name('list_');
  let seen = [];
  let token = prefix;
  let pages = 0;
  while (token && pages < 50) {
    body = await client.listFlows({ Limit: 2, NextToken: token });
    pages += 1;
    const names = body.Flows.map((f) => f.Name);
    seen = seen.concat(names.filter((n) => n.startsWith(prefix)));
    if (names.some((n) => !n.startsWith(prefix))) break;
    token = body.NextToken;
  }
  c.eq('ListFlows pages (Limit=2, NextToken) in name order', seen, listed);
  await c.rejects('ListFlows Limit=0 -> InvalidArgument naming Limit',
    () => client.listFlows({ Limit: 0 }),
    apiError('InvalidArgument', 400, ['Limit']));

  // --- Executions ------------------------------------------------------------------------
  body = await start(pName, 'x1', UNICODE_INPUT);
  c.eq('StartExecution Name/FlowName', [body.Name, body.FlowName], ['x1', pName]);
  c.jsonEq('StartExecution echoes Input (%20 spaces, non-ASCII, !\'()* escaped)', body.Input, JSON.parse(UNICODE_INPUT));
  body = await waitTerminal(pName, 'x1', 'x1 finishes');
  c.eq('DescribeExecution Succeeded', body.Status, 'Succeeded');
  c.jsonEq('Pass flow output = input', body.Output, JSON.parse(UNICODE_INPUT));
  c.eq('DescribeExecution FlowDefinition', body.FlowDefinition, pDef2);
  c.time('DescribeExecution StartedTime', body.StartedTime);
  c.time('DescribeExecution StoppedTime', body.StoppedTime);

  body = await start(pName);
  const gen = body.Name;
  c.check('StartExecution without ExecutionName generates a name', typeof gen === 'string' && gen.length >= 32,
    JSON.stringify(body));
  body = await waitTerminal(pName, gen, 'generated execution finishes');
  c.eq('Execution without Input has Input ""', body.Input, '');

  await start(fName, 'f1', '{"a": 1}');
  body = await waitTerminal(fName, 'f1', 'FDL execution finishes');
  c.jsonEq('FDL-1 output {}', body.Output, {});

  await c.rejects('StartExecution of a finished name -> ExecutionAlreadyExistsError (400)',
    () => start(pName, 'x1', '{}'),
    apiError('ExecutionAlreadyExists', 400, ['x1']));
  await c.rejects('StartExecution bad ExecutionName -> InvalidArgument naming ExecutionName',
    () => start(pName, 'bad name', '{}'),
    apiError('InvalidArgument', 400, ['ExecutionName']));
  await c.rejects('StartExecution Input not an object -> InvalidArgument naming Input',
    () => start(pName, 'arr', '[1]'),
    apiError('InvalidArgument', 400, ['Input']));
  await c.rejects('DescribeExecution missing execution -> ExecutionNotExistsError (404)',
    () => describe(pName, 'nope'),
    apiError('ExecutionNotExists', 404, ['nope']));

  const w2 = env.name('wait2');
  await createFlow(w2, waitSm(w2, 4));
  await start(w2, 'lp', '{}');
  await c.rejects('DescribeExecution long poll with the default 3 s timeout times out in the client',
    () => describe(w2, 'lp', { WaitTimeSeconds: 15 }),
    (e) => (e.name === 'RequestTimeoutError' ? null : 'not a client RequestTimeoutError'));
  const began = Date.now();
  body = await describe(w2, 'lp', { WaitTimeSeconds: 15 }, { timeout: 30000 });
  const took = (Date.now() - began) / 1000;
  c.eq('DescribeExecution WaitTimeSeconds=15 (options.timeout 30 s) returns the finished execution', body.Status, 'Succeeded');
  c.check('DescribeExecution long poll answers when the execution ends', took < 12, `took ${took} s`);

  for (const name of ['a_1', 'a_2', 'b_1']) await start(pName, name, '{}');
  for (const name of ['a_1', 'a_2', 'b_1']) await waitTerminal(pName, name, `${name} finishes`);
  const everything = ['a_1', 'a_2', 'b_1', gen, 'x1'].sort();
  body = await listExecutions(pName, { ExecutionNamePrefix: 'a_' });
  c.eq('ListExecutions ExecutionNamePrefix', body.Executions.map((e) => e.Name).sort(), ['a_1', 'a_2']);
  body = await listExecutions(pName, { Status: 'Succeeded' });
  c.eq('ListExecutions Status=Succeeded', body.Executions.map((e) => e.Name).sort(), everything);
  let names = [];
  token = undefined;
  pages = 0;
  while (pages < 20) {
    const params = { Limit: 2 };
    if (token) params.NextToken = token;
    body = await listExecutions(pName, params);
    pages += 1;
    names = names.concat(body.Executions.map((e) => e.Name));
    token = body.NextToken;
    if (!token) break;
  }
  c.check('ListExecutions pages (Limit=2, NextToken)',
    JSON.stringify(names.slice().sort()) === JSON.stringify(everything) && pages === 3, `${pages} pages: ${names}`);
  body = await listExecutions(pName, { MetadataOnly: true });
  c.check("ListExecutions MetadataOnly=true (sent as 'true') omits Input/Output/FlowDefinition",
    body.Executions.length === 5
      && !body.Executions.some((e) => 'Input' in e || 'Output' in e || 'FlowDefinition' in e),
    JSON.stringify(body.Executions));
  await c.rejects('ListExecutions missing flow -> FlowNotExistsError',
    () => listExecutions(missing),
    apiError('FlowNotExists', 404));

  const events = await allEvents(pName, 'x1');
  c.eq('GetExecutionHistory EventIds 1..n', events.map((e) => e.EventId), events.map((e, i) => i + 1));
  c.check('GetExecutionHistory EventId/ScheduleEventId are JSON numbers',
    events.every((e) => typeof e.EventId === 'number' && typeof e.ScheduleEventId === 'number'),
    JSON.stringify(events.slice(0, 2)));
  c.eq('GetExecutionHistory first/last event', [events[0].Type, events[events.length - 1].Type],
    ['ExecutionStarted', 'ExecutionSucceeded']);
  c.check('GetExecutionHistory Time/EventDetail',
    events.every((e) => RFC3339.test(e.Time) && typeof e.EventDetail === 'string'));
  c.at('GetExecutionHistory Limit=1');
  body = await client.getExecutionHistory({ FlowName: pName, ExecutionName: 'x1', Limit: 1 });
  c.check('GetExecutionHistory Limit=1 gives one event and a NextToken', body.Events.length === 1 && !!body.NextToken,
    JSON.stringify(body));

  // --- StopExecution ---------------------------------------------------------------------
  const w60 = env.name('wait60');
  await createFlow(w60, waitSm(w60, 60));
  await start(w60, 's_1', '{}');
  await poll(c, 's_1 is Running', () => describe(w60, 's_1'), (b) => b.Status === 'Running');
  body = await listExecutions(w60, { Status: 'Running' });
  c.eq('ListExecutions Status=Running', body.Executions.map((e) => e.Name), ['s_1']);
  c.at('StopExecution');
  body = await client.stopExecution({ FlowName: w60, ExecutionName: 's_1', Error: 'Halted', Cause: 'by the node sdk' });
  c.eq('StopExecution returns Stopped', [body.Name, body.Status], ['s_1', 'Stopped']);
  const stopped = await allEvents(w60, 's_1');
  c.eq('History ends with ExecutionStopped', stopped[stopped.length - 1].Type, 'ExecutionStopped');
  await c.rejects('StopExecution again -> ExecutionAlreadyCompletedError (400)',
    () => client.stopExecution({ FlowName: w60, ExecutionName: 's_1' }),
    apiError('ExecutionAlreadyCompleted', 400));

  // --- ReportTaskSucceeded / ReportTaskFailed ----------------------------------------------
  const child = env.name('child');
  await createFlow(child, passSm(child));
  const parent = env.name('callback');
  await createFlow(parent, callbackSm(parent, child, env.region));

  async function tokenOf(execution) {
    const evs = await poll(c, `${execution}: task submitted`, () => allEvents(parent, execution),
      (list) => list.some((e) => e.Type === 'TaskSubmitted')
        || list.some((e) => e.Type.startsWith('Execution') && e.Type !== 'ExecutionStarted'));
    for (const e of evs) {
      if (e.Type === 'TaskScheduled') {
        const found = findKey(JSON.parse(e.EventDetail), 'token');
        if (found) return found;
      }
    }
    const kids = await listExecutions(child, { Limit: 100 });
    for (const e of kids.Executions) {
      const found = findKey(JSON.parse((await describe(child, e.Name)).Input || '{}'), 'token');
      if (found) return found;
    }
    return c.fail(`${execution}: task token`, `not found in ${JSON.stringify(evs)}`);
  }

  await start(parent, 'ok_1', '{"orderId": "o-1"}');
  let taskToken = await tokenOf('ok_1');
  c.at('ReportTaskSucceeded');
  body = await client.reportTaskSucceeded({ TaskToken: taskToken, Output: '{"approved": true}' });
  c.check('ReportTaskSucceeded returns a numeric EventId', typeof body.EventId === 'number', JSON.stringify(body));
  body = await waitTerminal(parent, 'ok_1', 'ok_1 finishes');
  c.eq('Parent Succeeded', body.Status, 'Succeeded');
  c.jsonEq('Parent output is the reported Output', body.Output, { approved: true });
  await c.rejects('ReportTaskSucceeded on a finished execution -> ExecutionAlreadyCompletedError',
    () => client.reportTaskSucceeded({ TaskToken: taskToken, Output: '{}' }),
    apiError('ExecutionAlreadyCompleted', 400));

  await start(parent, 'fail_1', '{"orderId": "o-2"}');
  taskToken = await tokenOf('fail_1');
  c.at('ReportTaskFailed');
  body = await client.reportTaskFailed({ TaskToken: taskToken, Error: 'Rejected', Cause: 'no' });
  c.check('ReportTaskFailed returns a numeric EventId', typeof body.EventId === 'number', JSON.stringify(body));
  body = await waitTerminal(parent, 'fail_1', 'fail_1 finishes');
  c.eq('Parent Failed', body.Status, 'Failed');
  await c.rejects('ReportTaskFailed with a forged token -> InvalidArgumentError',
    () => client.reportTaskFailed({ TaskToken: 'forged', Error: 'E' }),
    apiError('InvalidArgument', 400));

  // --- Authentication errors -----------------------------------------------------------------
  const wrong = makeClient(env, { accessKeySecret: `${env.accessKeySecret}-wrong` });
  await c.rejects('Wrong secret -> SignatureNotMatchError (403)',
    () => wrong.describeFlow({ Name: pName }),
    apiError('SignatureNotMatch', 403));
  await c.rejects('Wrong secret on a POST -> SignatureNotMatchError (403)',
    () => wrong.startExecution({ FlowName: pName, ExecutionName: 'never' }),
    apiError('SignatureNotMatch', 403));
  const unknown = makeClient(env, { accessKeyId: 'no-such-key-id', accessKeySecret: 'x' });
  await c.rejects('Unknown AccessKeyId -> InvalidAccessKeyIDError (403)',
    () => unknown.describeFlow({ Name: pName }),
    apiError('InvalidAccessKeyID', 403));

  // --- DeleteFlow (GET in this SDK) ------------------------------------------------------------
  for (const name of flows.slice()) {
    c.at(`DeleteFlow ${name}`);
    body = await client.deleteFlow({ Name: name });
    c.requestId(`DeleteFlow (GET) ${name}`, body.RequestId);
    flows.splice(flows.indexOf(name), 1);
  }
  await c.rejects('DescribeFlow after DeleteFlow -> FlowNotExistsError',
    () => client.describeFlow({ Name: pName }),
    apiError('FlowNotExists', 404));
  await c.rejects('DeleteFlow missing flow -> FlowNotExistsError',
    () => client.deleteFlow({ Name: pName }),
    apiError('FlowNotExists', 404));
}

run(SCRIPT, main);
