'use strict';
// SDK conformance, later actions: the Node SDK `@alicloud/fnf-2019-03-15` against a live
// fnf-server for its schedule actions (it has no StartSyncExecution, versions, aliases or map
// runs). Same conventions as node.js.
//
//   FNF_ENDPOINT=127.0.0.1:8089 FNF_ACCESS_KEY_ID=… FNF_ACCESS_KEY_SECRET=… FNF_RUN_ID=r1 \
//   FNF_SDK_NODE_MODULES=target/sdk-node/node_modules node tests/sdk/node_full_api.js
//
// SDK details that matter here: createSchedule/updateSchedule are POSTs (everything in the
// body, `Enable=true`/`false` in lower case); deleteSchedule is a GET (the Python SDKs POST it);
// describeSchedule/listSchedules are GETs.

const {
  RFC3339, apiError, passSm, run, sdkRequire,
} = require('./node_common');

const Client = sdkRequire('@alicloud/fnf-2019-03-15');

async function main(env, c) {
  const client = new Client({
    endpoint: `http://${env.endpoint}`,
    accessKeyId: env.accessKeyId,
    accessKeySecret: env.accessKeySecret,
  });
  const flow = env.name('scheduled');
  const missing = env.name('missing');
  c.at('CreateFlow');
  await client.createFlow({ Name: flow, Definition: passSm(flow), Description: '', Type: 'FDL' });

  c.at('CreateSchedule');
  let body = await client.createSchedule({
    FlowName: flow, ScheduleName: 'daily', CronExpression: '0 0 12 * * *', Payload: '{"a": 1}', Enable: true,
    Description: 'noon and more',
  });
  c.eq('CreateSchedule fields', [body.ScheduleName, body.CronExpression, body.Description, body.Enable],
    ['daily', '0 0 12 * * *', 'noon and more', true]);
  c.check("CreateSchedule Enable (sent as 'true') comes back a JSON boolean", typeof body.Enable === 'boolean');
  c.check('CreateSchedule ScheduleId', typeof body.ScheduleId === 'string' && body.ScheduleId.length > 0);
  c.check('CreateSchedule CreatedTime', RFC3339.test(body.CreatedTime), body.CreatedTime);
  c.jsonEq('CreateSchedule Payload', body.Payload, { a: 1 });
  body = await client.createSchedule({ FlowName: flow, ScheduleName: 'every', CronExpression: '@every 5m', Enable: false });
  c.eq("CreateSchedule Enable=false (sent as 'false')", body.Enable, false);
  await c.rejects('CreateSchedule existing name -> ScheduleAlreadyExistsError (409)',
    () => client.createSchedule({ FlowName: flow, ScheduleName: 'daily', CronExpression: '@every 5m' }),
    apiError('ScheduleAlreadyExists', 409));
  await c.rejects('CreateSchedule bad CronExpression -> InvalidArgumentError naming CronExpression',
    () => client.createSchedule({ FlowName: flow, ScheduleName: 'bad', CronExpression: '@every 0m' }),
    apiError('InvalidArgument', 400, ['CronExpression']));
  await c.rejects('CreateSchedule missing flow -> FlowNotExistsError (404)',
    () => client.createSchedule({ FlowName: missing, ScheduleName: 'x', CronExpression: '@every 5m' }),
    apiError('FlowNotExists', 404));

  c.at('UpdateSchedule');
  body = await client.updateSchedule({ FlowName: flow, ScheduleName: 'daily', Enable: false, CronExpression: '@every 10m' });
  c.eq('UpdateSchedule changes only what is given', [body.Enable, body.CronExpression, body.Description],
    [false, '@every 10m', 'noon and more']);
  c.at('DescribeSchedule');
  body = await client.describeSchedule({ FlowName: flow, ScheduleName: 'daily' });
  c.eq('DescribeSchedule after UpdateSchedule', [body.Enable, body.CronExpression], [false, '@every 10m']);
  await c.rejects('DescribeSchedule unknown schedule -> ScheduleNotExistsError (404)',
    () => client.describeSchedule({ FlowName: flow, ScheduleName: 'nosuch' }),
    apiError('ScheduleNotExists', 404));

  c.at('ListSchedules');
  body = await client.listSchedules({ FlowName: flow, Limit: 1 });
  c.check('ListSchedules Limit=1 gives one schedule and a NextToken', body.Schedules.length === 1 && !!body.NextToken,
    JSON.stringify(body));
  body = await client.listSchedules({ FlowName: flow });
  c.eq('ListSchedules in name order', body.Schedules.map((s) => s.ScheduleName), ['daily', 'every']);

  c.at('DeleteSchedule (GET)');
  body = await client.deleteSchedule({ FlowName: flow, ScheduleName: 'every' });
  c.requestId('DeleteSchedule (GET) RequestId', body.RequestId);
  await c.rejects('DeleteSchedule again -> ScheduleNotExistsError (404)',
    () => client.deleteSchedule({ FlowName: flow, ScheduleName: 'every' }),
    apiError('ScheduleNotExists', 404));

  c.at('DeleteFlow');
  await client.deleteFlow({ Name: flow });
  await c.rejects('ListSchedules of a deleted flow -> FlowNotExistsError',
    () => client.listSchedules({ FlowName: flow }),
    apiError('FlowNotExists', 404));
}

run('nodefull', main);
