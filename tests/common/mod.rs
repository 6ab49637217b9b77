//! Shared test harness: an in-process keyfort on a loopback port, and SDK clients.
#![allow(dead_code, clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::Arc;

use aws_sdk_kms::config::{BehaviorVersion, Credentials, Region};
use keyfort_core::clock::Clock;
use keyfort_core::model::AccountId;
use keyfort_crypto::SecretBytes;
use keyfort_server::bootstrap::{self, GivenCredentials};
use keyfort_server::config::Config;
use tokio::sync::oneshot;

pub const ACCESS_KEY_ID: &str = "AKIAKEYFORTTESTROOT1";
pub const SECRET: &str = "kfTestSecretKey/0123456789abcdefghijKLMN";
pub const ACCOUNT: &str = "111122223333";

/// A running in-process server.
pub struct TestServer {
    pub addr: SocketAddr,
    pub kms: Arc<keyfort_core::Kms>,
    pub audit: Arc<keyfort_server::audit::AuditLog>,
    pub dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with_clock(bootstrap::system_clock()).await
    }

    pub async fn start_with_clock(clock: Arc<dyn Clock>) -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = Config::for_tests(dir.path().to_owned());
        let opened = bootstrap::open(
            dir.path(),
            &AccountId::parse(ACCOUNT).expect("account"),
            Some(GivenCredentials {
                access_key_id: ACCESS_KEY_ID.into(),
                secret: SecretBytes::new(SECRET.as_bytes().to_vec()),
            }),
            clock,
        )
        .expect("bootstrap");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let kms = Arc::clone(&opened.kms);
        let (audit_store, audit_key) =
            bootstrap::open_audit(dir.path(), &opened.kms).expect("audit");
        let audit = keyfort_server::audit::AuditLog::start(
            audit_store,
            audit_key,
            std::time::Duration::from_secs(3600),
        )
        .expect("audit log");
        let state = Arc::new(
            keyfort_server::AppState::new(Arc::clone(&opened.kms), config)
                .with_audit(Arc::clone(&audit)),
        );
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            keyfort_server::serve(listener, state, None, async {
                let _ = rx.await;
            })
            .await
            .expect("serve");
        });
        TestServer {
            addr,
            kms,
            audit,
            dir,
            stop: Some(tx),
            task: Some(task),
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn client(&self) -> aws_sdk_kms::Client {
        self.client_as(ACCESS_KEY_ID, SECRET, "us-east-1")
    }

    pub fn client_in(&self, region: &str) -> aws_sdk_kms::Client {
        self.client_as(ACCESS_KEY_ID, SECRET, region)
    }

    pub fn client_as(&self, akid: &str, secret: &str, region: &str) -> aws_sdk_kms::Client {
        client(&self.endpoint(), akid, secret, region)
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

pub fn client(endpoint: &str, akid: &str, secret: &str, region: &str) -> aws_sdk_kms::Client {
    let conf = aws_sdk_kms::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .credentials_provider(Credentials::new(akid, secret, None, None, "keyfort-test"))
        .endpoint_url(endpoint)
        .retry_config(aws_sdk_kms::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_kms::Client::from_conf(conf)
}

/// The AWS error code of an SDK error.
pub fn code<E, R>(e: &aws_sdk_kms::error::SdkError<E, R>) -> String
where
    E: aws_sdk_kms::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    match e {
        aws_sdk_kms::error::SdkError::ServiceError(s) => {
            s.err().code().unwrap_or("<none>").to_owned()
        }
        other => format!("<not a service error: {other:?}>"),
    }
}

/// Asserts a result is an AWS error with `want` as its code.
#[macro_export]
macro_rules! assert_code {
    ($res:expr, $want:expr) => {{
        match $res {
            Ok(v) => panic!("expected {} but the call succeeded: {:?}", $want, v),
            Err(e) => assert_eq!($crate::common::code(&e), $want, "{e:?}"),
        }
    }};
}
