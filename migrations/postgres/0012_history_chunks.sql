-- History in chunks: the events one transaction writes for one execution are one row, a JSON
-- array of {id, type, step, time, schedule, detail} (src/store/history_chunks.rs). Events
-- stored before this migration become chunks of one event each.
CREATE TABLE history_chunks (
    execution_id TEXT NOT NULL,
    first_event_id BIGINT NOT NULL,
    last_event_id BIGINT NOT NULL,
    events TEXT NOT NULL,
    PRIMARY KEY (execution_id, first_event_id)
);

INSERT INTO history_chunks (execution_id, first_event_id, last_event_id, events)
SELECT execution_id, event_id, event_id,
       json_build_array(json_build_object('id', event_id, 'type', event_type, 'step', step_name,
           'time', time, 'schedule', schedule_event_id, 'detail', detail))::text
FROM history_events;

DROP TABLE history_events;
