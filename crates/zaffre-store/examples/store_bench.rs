//! A quick measure of the store alone, below HTTP: ticket reads and ticket
//! updates from many concurrent tasks, as the API benchmark drives them.
//! It is what the SQLite pool layout (one writer connection, a pool of
//! readers) was chosen with.
//!
//! ```text
//! cargo run --release -p zaffre-store --example store_bench [URL] [SECONDS] [TASKS]
//! ```
//!
//! Without a URL it uses a SQLite file in a temp directory. For PostgreSQL,
//! pass an empty database: the benchmark creates its own account in it.

use std::time::{Duration, Instant};

use zaffre_domain::ticket::NewTicket;
use zaffre_domain::*;
use zaffre_store::{connect, DynStore, StoreError, TicketWrite};

const TICKETS: i64 = 1_000;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = tempfile::tempdir().expect("temp dir");
    let url = match args.first().filter(|a| !a.is_empty()) {
        Some(url) => url.clone(),
        None => format!("sqlite://{}", dir.path().join("bench.db").display()),
    };
    let seconds: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(5);
    let tasks: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(32);
    let store = connect(&url).await.expect("open the database");
    let (account, user, tickets) = seed(&store).await;
    println!("engine {}, {tasks} tasks, {seconds} s each", store.engine());
    // Ids are handed out in order, so the closures can carry two numbers
    // instead of sharing the list.
    let (first, count) = (tickets[0].0, tickets.len());
    let pick = move |i: usize| TicketId(first + (i % count) as i64);

    let reads = run(
        &store,
        tasks,
        Duration::from_secs(seconds),
        move |store, i| async move {
            let id = pick(i);
            store.get_ticket(account, id).await.expect("read");
        },
    )
    .await;
    report("get_ticket", &reads, seconds);

    let updates = run(
        &store,
        tasks,
        Duration::from_secs(seconds),
        move |store, i| async move {
            let id = pick(i);
            // Read, change, write; on a lost race read again, as the API does.
            loop {
                let current = store.get_ticket(account, id).await.expect("read");
                let next = Ticket {
                    subject: format!("Subject {i}"),
                    ..current.clone()
                };
                let events = [AuditEvent::Change {
                    field_name: "subject".into(),
                    value: next.subject.clone().into(),
                    previous_value: current.subject.clone().into(),
                }];
                let write = TicketWrite {
                    ticket: &next,
                    author_id: user,
                    events: &events,
                    comment: None,
                };
                match store.update_ticket(account, write).await {
                    Ok(_) => break,
                    Err(StoreError::StaleRevision) => continue,
                    Err(e) => panic!("update failed: {e}"),
                }
            }
        },
    )
    .await;
    report("update_ticket", &updates, seconds);
}

async fn seed(store: &DynStore) -> (AccountId, UserId, Vec<TicketId>) {
    let subdomain = format!("bench{}", std::process::id());
    let account = store
        .create_account(&subdomain, "Bench")
        .await
        .expect("account")
        .id;
    let user = store
        .create_user(
            account,
            &NewUser {
                name: "Bench Agent".into(),
                email: "agent@bench.example".into(),
                role: Role::Agent,
                organization_id: None,
                time_zone: "UTC".into(),
                locale: "en-US".into(),
                password_hash: None,
            },
        )
        .await
        .expect("user")
        .id;
    let mut tickets = Vec::new();
    for i in 0..TICKETS {
        let ticket = NewTicket {
            subject: format!("Ticket {i}"),
            description: "Something is broken".into(),
            status: TicketStatus::Open,
            priority: Some(TicketPriority::Normal),
            ticket_type: None,
            requester_id: user,
            submitter_id: user,
            assignee_id: Some(user),
            group_id: None,
            organization_id: None,
            tags: vec!["bench".into(), format!("t{}", i % 10)],
            custom_fields: vec![],
        };
        let first = NewComment {
            author_id: user,
            public: true,
            body: "Something is broken".into(),
            html_body: "<p>Something is broken</p>".into(),
        };
        tickets.push(
            store
                .create_ticket(account, &ticket, &first, &[])
                .await
                .expect("ticket")
                .id,
        );
    }
    (account, user, tickets)
}

/// Runs `op` from `tasks` tasks until `duration` has passed; returns every latency.
async fn run<F, Fut>(store: &DynStore, tasks: usize, duration: Duration, op: F) -> Vec<Duration>
where
    F: Fn(DynStore, usize) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let deadline = Instant::now() + duration;
    let mut handles = Vec::new();
    for task in 0..tasks {
        let store = store.clone();
        let op = op.clone();
        handles.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            // A cheap per-task sequence spreads tasks over different tickets.
            let mut i = task * 7919;
            while Instant::now() < deadline {
                let start = Instant::now();
                op(store.clone(), i).await;
                latencies.push(start.elapsed());
                i = i.wrapping_add(104_729);
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.expect("task"));
    }
    all
}

fn report(what: &str, latencies: &[Duration], seconds: u64) {
    let mut sorted = latencies.to_vec();
    sorted.sort();
    let pct = |p: f64| sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)];
    println!(
        "{what:>14}: {:>8.0} ops/s  p50 {:>7.2} ms  p99 {:>7.2} ms",
        latencies.len() as f64 / seconds as f64,
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
    );
}
