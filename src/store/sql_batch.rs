//! Group commit: many starts, advance commits and nonces written in one transaction with
//! multi-row statements, so the cost of a commit (a disk flush) and of a statement round trip
//! is shared. Portable between the backends like `sql.rs`.

macro_rules! impl_batch_store {
    ($store:ty, $db:ty) => {
        const _: () = {
            use std::collections::HashSet;

            use $crate::store::sql::{ExecutionRow, execution_columns};
            use $crate::store::*;

            /// Rows per multi-row statement (bounded by the backends' bind-parameter limits).
            const CHUNK: usize = 400;

            const SELECT_BY_NAME: &str = concat!(
                "SELECT ",
                execution_columns!(),
                " FROM executions WHERE flow_id = $1 AND name = $2"
            );

            #[async_trait::async_trait]
            impl BatchStore for $store {
                async fn write_batch(&self, ops: &[WriteOp]) -> StoreResult<Vec<WriteResult>> {
                    let mut results: Vec<Option<WriteResult>> = vec![None; ops.len()];
                    let mut tx = self.write_pool().begin().await?;
                    let mut events: Vec<(&str, &HistoryEvent)> = Vec::new();
                    let mut calls: Vec<(&str, &str, &str, i64)> = Vec::new();
                    let mut signals: Vec<&OutgoingSignal> = Vec::new();
                    let mut children: Vec<&NewExecution> = Vec::new();
                    let mut map_runs: Vec<&MapRunWrite> = Vec::new();
                    let now = ops.iter().map(op_time).max().unwrap_or_default();

                    // Nonces: one upsert; a pair twice in the batch is a replay the second time.
                    let mut seen = HashSet::new();
                    let mut nonce_rows = Vec::new();
                    for (index, op) in ops.iter().enumerate() {
                        if let WriteOp::Nonce { access_key_id, nonce, expires_at, .. } = op {
                            if seen.insert((access_key_id.as_str(), nonce.as_str())) {
                                nonce_rows.push((index, access_key_id.as_str(), nonce.as_str(), *expires_at));
                            } else {
                                results[index] = Some(WriteResult::Nonce(false));
                            }
                        }
                    }
                    for chunk in nonce_rows.chunks(CHUNK) {
                        let mut insert = sqlx::QueryBuilder::<$db>::new(
                            "INSERT INTO nonces (access_key_id, nonce, expires_at) ",
                        );
                        insert.push_values(chunk, |mut row, (_, key, nonce, expires)| {
                            row.push_bind(*key).push_bind(*nonce).push_bind(*expires);
                        });
                        insert.push(
                            " ON CONFLICT (access_key_id, nonce) DO UPDATE SET expires_at = excluded.expires_at \
                             WHERE nonces.expires_at < ",
                        );
                        insert.push_bind(now);
                        insert.push(" RETURNING access_key_id, nonce");
                        let fresh: HashSet<(String, String)> = insert
                            .build_query_as::<(String, String)>()
                            .fetch_all(&mut *tx)
                            .await?
                            .into_iter()
                            .collect();
                        for (index, key, nonce, _) in chunk {
                            let new = fresh.contains(&(key.to_string(), nonce.to_string()));
                            results[*index] = Some(WriteResult::Nonce(new));
                        }
                    }

                    // Starts: one insert; names already taken are looked up afterwards.
                    let starts: Vec<(usize, &NewExecution)> = ops
                        .iter()
                        .enumerate()
                        .filter_map(|(i, op)| match op {
                            WriteOp::Start(new) => Some((i, &**new)),
                            _ => None,
                        })
                        .collect();
                    let new_rows: Vec<&NewExecution> = starts.iter().map(|(_, new)| *new).collect();
                    let inserted = insert_executions(&mut tx, &new_rows).await?;
                    for (index, new) in &starts {
                        if inserted.contains(&new.id) {
                            events.push((&new.id, &new.started_event));
                            if let Some(advance) = &new.advance {
                                events.extend(advance.events.iter().map(|e| (new.id.as_str(), e)));
                                if advance.end.is_none() {
                                    calls.extend(advance.calls_started.iter().map(|key| {
                                        (new.id.as_str(), key.as_str(), advance.owner.as_str(), advance.call_lease_until)
                                    }));
                                }
                                signals.extend(advance.signals_out.iter());
                                children.extend(advance.children.iter());
                                map_runs.extend(advance.map_runs.iter());
                            }
                            results[*index] = Some(WriteResult::Started(Box::new(StartOutcome::Started(
                                started_execution(new),
                            ))));
                        } else {
                            let row = sqlx::query_as::<$db, ExecutionRow>(SELECT_BY_NAME)
                                .bind(&new.flow_id)
                                .bind(&new.name)
                                .fetch_one(&mut *tx)
                                .await?;
                            let existing = Execution::try_from(row)?;
                            results[*index] = Some(WriteResult::Started(Box::new(
                                if existing.status.is_terminal() {
                                    StartOutcome::AlreadyEnded(existing)
                                } else {
                                    StartOutcome::Running(existing)
                                },
                            )));
                        }
                    }

                    // Commits: one fenced update; only those whose lease held write the rest.
                    let commits: Vec<(usize, &ExecutionCommit)> = ops
                        .iter()
                        .enumerate()
                        .filter_map(|(i, op)| match op {
                            WriteOp::Commit(commit) => Some((i, &**commit)),
                            _ => None,
                        })
                        .collect();
                    let mut committed: HashSet<String> = HashSet::new();
                    for chunk in commits.chunks(CHUNK / 2) {
                        let mut update = sqlx::QueryBuilder::<$db>::new(
                            "UPDATE executions SET state = v.v_state, next_event_id = v.v_next, status = v.v_status, \
                             output = COALESCE(v.v_output, executions.output), error = v.v_error, cause = v.v_cause, \
                             stopped_at = v.v_stopped, due_at = v.v_due, lease_owner = NULL, lease_until = NULL FROM (",
                        );
                        for (position, (_, commit)) in chunk.iter().enumerate() {
                            if position > 0 {
                                update.push(" UNION ALL ");
                            }
                            let end = commit.end.as_ref();
                            update.push("SELECT ");
                            update.push_bind(&commit.execution_id).push(" AS v_id, ");
                            update.push_bind(commit.epoch).push(" AS v_epoch, ");
                            update.push_bind(&commit.state).push(" AS v_state, ");
                            update.push_bind(commit.next_event_id).push(" AS v_next, ");
                            update
                                .push_bind(end.map_or("Running", |e| e.status.as_str()))
                                .push(" AS v_status, ");
                            update.push_bind(end.map(|e| e.output.as_str())).push(" AS v_output, ");
                            update.push_bind(end.and_then(|e| e.error.as_deref())).push(" AS v_error, ");
                            update.push_bind(end.and_then(|e| e.cause.as_deref())).push(" AS v_cause, ");
                            update.push_bind(end.map(|e| e.stopped_at)).push(" AS v_stopped, ");
                            let due = if end.is_some() { None } else { commit.due_at };
                            update.push_bind(due).push(" AS v_due");
                        }
                        update.push(
                            ") AS v WHERE executions.id = v.v_id AND executions.lease_epoch = v.v_epoch \
                             AND executions.status = 'Running' RETURNING id",
                        );
                        let ids: Vec<String> = update.build_query_scalar().fetch_all(&mut *tx).await?;
                        committed.extend(ids);
                    }
                    let mut consumed: Vec<i64> = Vec::new();
                    let mut continuing: Vec<&str> = Vec::new();
                    for (index, commit) in &commits {
                        if !committed.contains(&commit.execution_id) {
                            results[*index] = Some(WriteResult::Committed(CommitOutcome::LostLease));
                            continue;
                        }
                        results[*index] = Some(WriteResult::Committed(CommitOutcome::Committed));
                        events.extend(commit.events.iter().map(|e| (commit.execution_id.as_str(), e)));
                        consumed.extend(&commit.consumed_signals);
                        signals.extend(commit.signals_out.iter());
                        children.extend(commit.children.iter());
                        map_runs.extend(commit.map_runs.iter());
                        if commit.end.is_some() {
                            sqlx::query("DELETE FROM task_calls WHERE execution_id = $1")
                                .bind(&commit.execution_id)
                                .execute(&mut *tx)
                                .await?;
                            continue;
                        }
                        continuing.push(&commit.execution_id);
                        for call_key in &commit.calls_abandoned {
                            sqlx::query("DELETE FROM task_calls WHERE execution_id = $1 AND call_key = $2")
                                .bind(&commit.execution_id)
                                .bind(call_key)
                                .execute(&mut *tx)
                                .await?;
                        }
                        calls.extend(commit.calls_started.iter().map(|key| {
                            (commit.execution_id.as_str(), key.as_str(), commit.owner.as_str(), commit.call_lease_until)
                        }));
                    }
                    for chunk in consumed.chunks(CHUNK) {
                        let mut delete =
                            sqlx::QueryBuilder::<$db>::new("DELETE FROM execution_signals WHERE id IN (");
                        let mut ids = delete.separated(", ");
                        for id in chunk {
                            ids.push_bind(*id);
                        }
                        delete.push(")");
                        delete.build().execute(&mut *tx).await?;
                    }
                    // A signal queued while an advance ran must not be slept through (see `commit`).
                    for chunk in continuing.chunks(CHUNK) {
                        let mut waiting = sqlx::QueryBuilder::<$db>::new(
                            "SELECT DISTINCT execution_id FROM execution_signals WHERE execution_id IN (",
                        );
                        let mut ids = waiting.separated(", ");
                        for id in chunk {
                            ids.push_bind(*id);
                        }
                        waiting.push(")");
                        let due: Vec<String> = waiting.build_query_scalar().fetch_all(&mut *tx).await?;
                        for id in due {
                            sqlx::query("UPDATE executions SET due_at = $1 WHERE id = $2")
                                .bind(now)
                                .bind(id)
                                .execute(&mut *tx)
                                .await?;
                        }
                    }

                    // Distributed Map children, created with the advance that starts them.
                    let created = insert_executions(&mut tx, &children).await?;
                    for child in &children {
                        if created.contains(&child.id) {
                            events.push((&child.id, &child.started_event));
                        }
                    }
                    for change in map_runs {
                        write_map_run(&mut tx, change).await?;
                    }

                    for chunk in events.chunks(CHUNK) {
                        let mut insert = sqlx::QueryBuilder::<$db>::new(
                            "INSERT INTO history_events (execution_id, event_id, event_type, step_name, time, \
                             schedule_event_id, detail) ",
                        );
                        insert.push_values(chunk, |mut row, (execution_id, event)| {
                            row.push_bind(*execution_id)
                                .push_bind(event.event_id)
                                .push_bind(&event.event_type)
                                .push_bind(&event.step_name)
                                .push_bind(event.time)
                                .push_bind(event.schedule_event_id)
                                .push_bind(&event.detail);
                        });
                        insert.build().execute(&mut *tx).await?;
                    }
                    for chunk in calls.chunks(CHUNK) {
                        let mut insert = sqlx::QueryBuilder::<$db>::new(
                            "INSERT INTO task_calls (execution_id, call_key, owner, lease_until) ",
                        );
                        insert.push_values(chunk, |mut row, (execution_id, key, owner, until)| {
                            row.push_bind(*execution_id)
                                .push_bind(*key)
                                .push_bind(*owner)
                                .push_bind(*until);
                        });
                        insert.build().execute(&mut *tx).await?;
                    }
                    for signal in signals {
                        sqlx::query(
                            "INSERT INTO execution_signals (execution_id, payload, created_at) SELECT $1, $2, $3 \
                     WHERE EXISTS (SELECT 1 FROM executions WHERE id = $1 AND status = 'Running')",
                        )
                        .bind(&signal.execution_id)
                        .bind(&signal.payload)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                        sqlx::query(
                            "UPDATE executions SET due_at = $1 WHERE id = $2 AND status = 'Running' \
                             AND (due_at IS NULL OR due_at > $1)",
                        )
                        .bind(now)
                        .bind(&signal.execution_id)
                        .execute(&mut *tx)
                        .await?;
                    }
                    // Ends are announced by the transaction that writes them.
                    let mut ended: Vec<&str> = starts
                        .iter()
                        .filter(|(_, new)| {
                            inserted.contains(&new.id)
                                && new.advance.as_ref().is_some_and(|a| a.end.is_some())
                        })
                        .map(|(_, new)| new.id.as_str())
                        .collect();
                    ended.extend(
                        commits
                            .iter()
                            .filter(|(_, c)| c.end.is_some() && committed.contains(&c.execution_id))
                            .map(|(_, c)| c.execution_id.as_str()),
                    );
                    self.announce_ended(&mut tx, &ended).await?;
                    tx.commit().await?;
                    Ok(results
                        .into_iter()
                        .map(|result| result.expect("every write has a result"))
                        .collect())
                }
            }

            /// Inserts new executions (multi-row); returns the ids that were new.
            async fn insert_executions(
                tx: &mut sqlx::Transaction<'static, $db>,
                news: &[&NewExecution],
            ) -> StoreResult<HashSet<String>> {
                let mut inserted = HashSet::new();
                for chunk in news.chunks(CHUNK / 2) {
                    let mut insert = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO executions (id, account_id, flow_id, flow_name, name, status, input, output, \
                         error, cause, definition, role_arn, environment, qualifier, flow_version, callback_token, \
                         started_at, stopped_at, state, next_event_id, due_at, lease_owner, lease_until, lease_epoch, \
                         parent_id, map_run, map_index) ",
                    );
                    insert.push_values(chunk, |mut row, new| {
                        let start = StartRow::of(new);
                        let child = new.map_child.as_ref();
                        row.push_bind(&new.id)
                            .push_bind(&new.account_id)
                            .push_bind(&new.flow_id)
                            .push_bind(&new.flow_name)
                            .push_bind(&new.name)
                            .push_bind(start.status)
                            .push_bind(&new.input)
                            .push_bind(start.output)
                            .push_bind(start.error)
                            .push_bind(start.cause)
                            .push_bind(&new.definition)
                            .push_bind(&new.role_arn)
                            .push_bind(&new.environment)
                            .push_bind(&new.qualifier)
                            .push_bind(&new.flow_version)
                            .push_bind(&new.callback_token)
                            .push_bind(new.started_at)
                            .push_bind(start.stopped_at)
                            .push_bind(start.state)
                            .push_bind(start.next_event_id)
                            .push_bind(start.due_at)
                            .push_bind(start.lease_owner)
                            .push_bind(start.lease_until)
                            .push_bind(1_i64)
                            .push_bind(child.map(|c| c.parent_id.as_str()))
                            .push_bind(child.map(|c| c.map_run.as_str()))
                            .push_bind(child.map(|c| c.index));
                    });
                    insert.push(" ON CONFLICT (flow_id, name) DO NOTHING RETURNING id");
                    let ids: Vec<String> = insert.build_query_scalar().fetch_all(&mut **tx).await?;
                    inserted.extend(ids);
                }
                Ok(inserted)
            }

            async fn write_map_run(
                tx: &mut sqlx::Transaction<'static, $db>,
                change: &MapRunWrite,
            ) -> StoreResult<()> {
                match change {
                    MapRunWrite::Started {
                        name,
                        execution_id,
                        state_name,
                        total,
                        concurrency,
                        tolerated_count,
                        tolerated_percentage,
                        started_at,
                    } => {
                        sqlx::query(
                            "INSERT INTO map_runs (name, execution_id, state_name, status, concurrency, \
                             tolerated_count, tolerated_percentage, total, started_at) \
                             VALUES ($1, $2, $3, 'Running', $4, $5, $6, $7, $8)",
                        )
                        .bind(name)
                        .bind(execution_id)
                        .bind(state_name)
                        .bind(concurrency)
                        .bind(tolerated_count)
                        .bind(tolerated_percentage)
                        .bind(total)
                        .bind(started_at)
                        .execute(&mut **tx)
                        .await?;
                    }
                    MapRunWrite::Ended {
                        name,
                        status,
                        stopped_at,
                    } => {
                        sqlx::query(
                            "UPDATE map_runs SET status = $1, stopped_at = $2 WHERE name = $3 AND status = 'Running'",
                        )
                        .bind(status)
                        .bind(stopped_at)
                        .bind(name)
                        .execute(&mut **tx)
                        .await?;
                    }
                }
                Ok(())
            }

            fn op_time(op: &WriteOp) -> i64 {
                match op {
                    WriteOp::Start(new) => new.started_at,
                    WriteOp::Commit(commit) => commit.now,
                    WriteOp::Nonce { now, .. } => *now,
                }
            }

            /// The stored columns of a new execution, with or without its first advance.
            struct StartRow<'a> {
                status: &'a str,
                output: &'a str,
                error: Option<&'a str>,
                cause: Option<&'a str>,
                stopped_at: Option<i64>,
                state: Option<&'a str>,
                next_event_id: i64,
                due_at: Option<i64>,
                lease_owner: Option<&'a str>,
                lease_until: Option<i64>,
            }

            impl<'a> StartRow<'a> {
                fn of(new: &'a NewExecution) -> StartRow<'a> {
                    match &new.advance {
                        Some(advance) => {
                            let end = advance.end.as_ref();
                            StartRow {
                                status: end.map_or("Running", |e| e.status.as_str()),
                                output: end.map_or("", |e| e.output.as_str()),
                                error: end.and_then(|e| e.error.as_deref()),
                                cause: end.and_then(|e| e.cause.as_deref()),
                                stopped_at: end.map(|e| e.stopped_at),
                                state: Some(&advance.state),
                                next_event_id: advance.next_event_id,
                                due_at: if end.is_some() { None } else { advance.due_at },
                                lease_owner: None,
                                lease_until: None,
                            }
                        }
                        None => StartRow {
                            status: "Running",
                            output: "",
                            error: None,
                            cause: None,
                            stopped_at: None,
                            state: None,
                            next_event_id: new.started_event.event_id + 1,
                            due_at: Some(new.lease.as_ref().map_or(new.started_at, |l| l.lease_until)),
                            lease_owner: new.lease.as_ref().map(|l| l.owner.as_str()),
                            lease_until: new.lease.as_ref().map(|l| l.lease_until),
                        },
                    }
                }
            }

            /// The execution as it was when it started: StartExecution answers with that
            /// (api.md §4.8: `Running`), even when its first advance already ended it.
            fn started_execution(new: &NewExecution) -> Execution {
                Execution {
                    id: new.id.clone(),
                    account_id: new.account_id.clone(),
                    flow_id: new.flow_id.clone(),
                    flow_name: new.flow_name.clone(),
                    name: new.name.clone(),
                    status: ExecutionStatus::Running,
                    input: new.input.clone(),
                    output: String::new(),
                    error: None,
                    cause: None,
                    definition: new.definition.clone(),
                    role_arn: new.role_arn.clone(),
                    environment: new.environment.clone(),
                    qualifier: new.qualifier.clone(),
                    flow_version: new.flow_version.clone(),
                    callback_token: new.callback_token.clone(),
                    started_at: new.started_at,
                    stopped_at: None,
                    map_child: new.map_child.clone(),
                }
            }
        };
    };
}

pub(super) use impl_batch_store;
