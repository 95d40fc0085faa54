//! The store conformance suite: every public method of the `Store` traits, held to its
//! documented contract, through the traits only. Each check is one generic function run once
//! per backend, on a fresh store (SQLite in a temporary folder, Postgres in a throwaway
//! database at `TEST_DATABASE_URL`).
//!
//! A new backend passes by implementing the store traits and adding itself to the backend
//! list below (a function that opens a fresh, empty store as a `Fixture`).

#[path = "../common/mod.rs"]
mod common;
#[macro_use]
mod harness;
mod rows;

mod batch;
mod executions;
mod flows;
mod gateway;
mod history_migration;
mod map_runs;
mod notices;
mod postgres_only;
mod retention;
mod schedules;
mod sessions;
mod versions;
mod work;

conformance! {
    backends: {
        sqlite => crate::harness::Fixture::sqlite,
        postgres => crate::harness::Fixture::postgres,
    }
    checks: {
        flows: [
            flows_are_unique_per_account_and_isolated,
            creating_stops_at_the_flow_limit,
            flow_updates_are_optimistic,
            deleting_a_flow_stops_its_executions,
            deleting_a_flow_removes_its_versions_aliases_and_schedules,
            listing_flows_pages_by_name,
            listing_flows_filters_by_name_patterns,
            listing_flows_filters_by_resource_group,
        ],
        executions: [
            starting_writes_the_execution_and_its_first_event_once,
            a_start_past_the_running_limit_is_throttled,
            a_start_guarded_by_a_stale_flow_revision_writes_nothing,
            executions_are_found_by_name_and_id,
            listing_executions_orders_and_filters,
            listing_executions_filters_by_qualifier,
            history_pages_by_event_id,
            history_pages_across_many_chunks,
            forcing_an_end_drops_calls_and_reports,
        ],
        work: [
            two_claimers_never_take_the_same_execution,
            a_stale_lease_cannot_commit,
            a_commit_from_an_unleased_read_claims_the_execution_once,
            two_commits_of_one_execution_in_a_batch_store_one,
            claiming_an_ended_or_unknown_execution_fails,
            a_commit_consumes_signals_and_sets_the_next_wake_up,
            a_commit_that_ends_drops_calls_and_signals,
            call_answers_are_fenced_and_lost_calls_reaped,
            a_signal_during_an_advance_keeps_the_execution_due,
            a_signal_for_a_leased_execution_waits_for_the_lease,
            releasing_gives_the_lease_back,
            heartbeats_extend_execution_and_call_leases,
            released_calls_are_lost_at_once,
            dropped_call_leases_are_reaped,
            wake_ups_and_the_queue_depth,
        ],
        map_runs: [
            map_runs_count_their_children,
            map_runs_update_only_the_given_values,
            aborting_marks_only_running_map_runs,
        ],
        batch: [
            a_batch_answers_each_write_in_order,
            a_start_records_its_nonce_and_a_replayed_one_writes_nothing,
            a_commit_records_its_nonce_and_a_replayed_one_writes_nothing,
            a_start_that_ended_at_once_is_answered_running_but_stored_ended,
            a_nonce_reading_a_flow_sees_its_current_revision,
            the_batcher_writes_through_the_store,
            shared_nonces_are_decided_by_the_store,
            durable_nonces_remember_what_the_store_holds,
        ],
        schedules: [
            schedules_are_created_once_per_flow_and_name,
            schedule_updates_are_optimistic_and_reschedule_on_request,
            schedules_list_by_name_and_delete,
            two_schedulers_never_claim_the_same_fire,
            finishing_a_fire_moves_it_once,
            the_next_schedule_wake_counts_claims,
            a_schedule_finds_its_flow_by_id,
        ],
        versions: [
            publishing_snapshots_the_flow_with_ever_growing_numbers,
            versions_list_and_delete,
            aliases_route_only_to_existing_versions,
            alias_updates_are_optimistic,
            aliases_list_by_name_and_delete,
        ],
        gateway: [
            nonces_are_used_once_until_they_expire,
            throttle_buckets_refill_up_to_the_burst,
            server_keys_are_created_once,
        ],
        sessions: [console_sessions_touch_and_expire],
        retention: [
            ended_executions_past_the_cutoff_go_with_everything_of_theirs,
            retention_deletes_at_most_the_limit_oldest_first,
            ended_map_children_stay_while_their_parent_runs,
            deleted_flows_executions_stop_in_batches,
            stopping_without_a_flow_finds_every_deleted_flow,
        ],
        notices: [
            the_store_is_ready_and_names_its_backend,
            notices_reach_subscribers,
        ],
    }
}
