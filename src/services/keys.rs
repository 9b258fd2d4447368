//! Signing keys: which key signs, which still verify, rotation, emergency retirement, and sealing
//! private keys at rest. A key signs from its activation until a newer key activates, keeps
//! verifying until the last token it signed has expired, then retires by itself. Every instance
//! rebuilds its ring from this table (see `refresh`), so a change made anywhere reaches all.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use super::Error;
use crate::auth::keys::{self, KeyEncryptionKey, KeyMaterial, KeyRing, SEALING_SCHEME};
use crate::auth::tokens::LEEWAY_SECS;
use crate::config::{Config, JwtAlg};
use crate::db::models::signing_key::{NewSigningKey, SigningKeyRow};
use crate::db::{self, clock};
use crate::state::AppState;

/// The configured key-encryption key, if any.
pub fn key_encryption_key(config: &Config) -> Result<Option<KeyEncryptionKey>, Error> {
    config
        .key_encryption_key
        .as_ref()
        .map(|k| KeyEncryptionKey::from_base64(k.expose()))
        .transpose()
        .map_err(|e| Error::Invalid(format!("AUTHD_KEY_ENCRYPTION_KEY: {e}")))
}

/// How long after a key stops signing its tokens can still be presented.
fn token_horizon(config: &Config) -> Duration {
    Duration::seconds(config.access_ttl_secs + LEEWAY_SECS as i64)
}

/// The private half of a stored key, opened if it is sealed.
fn private_of(row: &SigningKeyRow, kek: Option<&KeyEncryptionKey>) -> Result<Vec<u8>, Error> {
    match (row.private_key_encryption.as_deref(), kek) {
        (None, _) => Ok(row.private_key.clone()),
        (Some(SEALING_SCHEME), Some(kek)) => kek
            .open(&row.kid, &row.private_key)
            .map_err(|e| Error::Invalid(format!("AUTHD_KEY_ENCRYPTION_KEY: {e}"))),
        (Some(SEALING_SCHEME), None) => Err(Error::Invalid(format!(
            "AUTHD_KEY_ENCRYPTION_KEY: not set, but signing key {} is stored encrypted",
            row.kid
        ))),
        (Some(other), _) => Err(Error::Invalid(format!(
            "signing key {} is sealed with unknown scheme {other:?}",
            row.kid
        ))),
    }
}

/// Generates a key of `alg` that signs from `activated_at`, sealed when a key-encryption key is
/// configured; in the caller's transaction. Returns its kid.
fn insert_new_key(
    conn: &mut PgConnection,
    alg: JwtAlg,
    kek: Option<&KeyEncryptionKey>,
    activated_at: DateTime<Utc>,
) -> Result<String, Error> {
    let (private, public) = keys::generate(alg).map_err(Error::internal)?;
    let kid = keys::thumbprint(&public);
    let sealed = kek
        .map(|k| k.seal(&kid, &private))
        .transpose()
        .map_err(Error::internal)?;
    SigningKeyRow::insert(
        conn,
        &NewSigningKey {
            kid: &kid,
            alg: alg.as_str(),
            public_key: &public,
            private_key: sealed.as_deref().unwrap_or(&private),
            activated_at: Some(activated_at),
            private_key_encryption: sealed.is_some().then_some(SEALING_SCHEME),
        },
    )?;
    log::info!("generated {} signing key {kid}", alg.as_str());
    Ok(kid)
}

/// The key that signs at `now`: the newest activated one. Rows are newest activation first.
fn signing_index(rows: &[SigningKeyRow], now: DateTime<Utc>) -> Option<usize> {
    rows.iter()
        .position(|r| r.activated_at.is_some_and(|a| a <= now))
}

/// Builds this instance's ring from the table; creates the first key of the configured
/// algorithm when none can sign. HS256 needs no table: its secrets come from the configuration.
pub fn load_ring(conn: &mut PgConnection, config: &Config) -> Result<KeyRing, Error> {
    if config.jwt_alg == JwtAlg::Hs256 {
        let secret = config
            .jwt_secret
            .as_ref()
            .ok_or_else(|| Error::Invalid("AUTHD_JWT_SECRET: required for HS256".into()))?;
        return Ok(KeyRing::from_secrets(
            secret,
            config.jwt_secret_previous.as_ref(),
        ));
    }
    let kek = key_encryption_key(config)?;
    let alg = config.jwt_alg;
    // Activation times are the database's clock, so instances agree on which key signs.
    let mut now = clock::now(conn)?;
    let mut rows = SigningKeyRow::live(conn, alg.as_str())?;
    if signing_index(&rows, now).is_none() {
        conn.transaction::<_, Error, _>(|conn| {
            SigningKeyRow::lock_table(conn)?;
            // Read after the lock: an instance starting alongside may have just made the key.
            now = clock::now(conn)?;
            rows = SigningKeyRow::live(conn, alg.as_str())?;
            if signing_index(&rows, now).is_none() {
                insert_new_key(conn, alg, kek.as_ref(), now)?;
                rows = SigningKeyRow::live(conn, alg.as_str())?;
            }
            Ok(())
        })?;
    }
    let signing =
        signing_index(&rows, now).ok_or_else(|| Error::internal(keys::KeyError::NoSigningKey))?;
    let mut material = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        // Every stored private key is opened, not only the signing one: a key-encryption key
        // that cannot open them all is refused now, not at the next rotation.
        let private = private_of(row, kek.as_ref())?;
        material.push(KeyMaterial {
            kid: row.kid.clone(),
            public_key: row.public_key.clone(),
            private_pkcs8: (i == signing).then_some(private),
        });
    }
    let signing_key = material.remove(signing);
    let version = format!(
        "{}:{}",
        signing_key.kid,
        rows.iter()
            .map(|r| r.kid.as_str())
            .collect::<Vec<_>>()
            .join(",")
    );
    KeyRing::from_keys(alg, &signing_key, &material)
        .map(|ring| ring.with_version(version))
        .map_err(Error::internal)
}

/// Retires keys that stopped signing longer ago than a token lives: nothing they signed can
/// still be presented.
fn retire_expired(
    conn: &mut PgConnection,
    config: &Config,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let rows = SigningKeyRow::live(conn, config.jwt_alg.as_str())?;
    let horizon = token_horizon(config);
    for pair in rows.windows(2) {
        let (newer, older) = (&pair[0], &pair[1]);
        if newer.activated_at.is_some_and(|a| a + horizon <= now)
            && SigningKeyRow::retire(conn, &older.kid, now)?
        {
            log::info!(
                "signing key {} retired: its last token has expired",
                older.kid
            );
        }
    }
    Ok(())
}

/// Brings this instance's ring in line with the table: retires keys whose tokens have all
/// expired, starts signing with a key whose activation has come, drops retired keys. Called
/// every few seconds and when a token names an unknown key. True when the ring changed.
pub async fn refresh(state: &AppState) -> Result<bool, Error> {
    if state.config.jwt_alg == JwtAlg::Hs256 {
        return Ok(false);
    }
    let config = state.config.clone();
    let ring = db::run(&state.pool, move |conn| {
        let now = clock::now(conn)?;
        retire_expired(conn, &config, now)?;
        load_ring(conn, &config)
    })
    .await?;
    let current = state.tokens.keys();
    if ring.version() == current.version() {
        return Ok(false);
    }
    if ring.signing_kid() != current.signing_kid() {
        log::info!("signing with key {}", ring.signing_kid());
    }
    state.tokens.replace_keys(ring);
    Ok(true)
}

/// A key as the operator sees it.
pub struct KeyInfo {
    pub kid: String,
    pub alg: String,
    pub state: KeyState,
    pub created_at: DateTime<Utc>,
    pub activated_at: Option<DateTime<Utc>>,
    pub retired_at: Option<DateTime<Utc>>,
    pub sealed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// Published, signs from its activation.
    Pending,
    Signing,
    /// No longer signs; verifies until its last token has expired.
    Verifying,
    Retired,
}

impl KeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Signing => "signing",
            Self::Verifying => "verifying",
            Self::Retired => "retired",
        }
    }
}

pub async fn list(state: &AppState) -> Result<Vec<KeyInfo>, Error> {
    db::run(&state.pool, |conn| {
        let now = clock::now(conn)?;
        let rows = SigningKeyRow::all(conn)?;
        let mut signing_seen = std::collections::HashSet::new();
        let mut by_activation: Vec<&SigningKeyRow> = rows.iter().collect();
        by_activation.sort_by_key(|r| std::cmp::Reverse(r.activated_at));
        let mut states = std::collections::HashMap::new();
        for row in by_activation {
            let state = match (row.retired_at, row.activated_at) {
                (Some(_), _) | (None, None) => KeyState::Retired,
                (None, Some(a)) if a > now => KeyState::Pending,
                (None, Some(_)) if signing_seen.insert(row.alg.clone()) => KeyState::Signing,
                (None, Some(_)) => KeyState::Verifying,
            };
            states.insert(row.kid.clone(), state);
        }
        Ok(rows
            .into_iter()
            .map(|r| KeyInfo {
                state: states.get(&r.kid).copied().unwrap_or(KeyState::Retired),
                sealed: r.private_key_encryption.is_some(),
                kid: r.kid,
                alg: r.alg,
                created_at: r.created_at,
                activated_at: r.activated_at,
                retired_at: r.retired_at,
            })
            .collect())
    })
    .await
}

fn stored_keys_only(config: &Config) -> Result<(), Error> {
    if config.jwt_alg == JwtAlg::Hs256 {
        return Err(Error::Invalid(
            "AUTHD_JWT_ALG=HS256 signs with AUTHD_JWT_SECRET: to change it, set the new secret and \
             keep the old one in AUTHD_JWT_SECRET_PREVIOUS until its tokens have expired"
                .into(),
        ));
    }
    Ok(())
}

/// Seals every stored private key that is still plain, in the caller's transaction.
fn seal_plain_keys(conn: &mut PgConnection, kek: &KeyEncryptionKey) -> Result<usize, Error> {
    let plain = SigningKeyRow::unsealed(conn)?;
    for row in &plain {
        let sealed = kek
            .seal(&row.kid, &row.private_key)
            .map_err(Error::internal)?;
        SigningKeyRow::store_sealed(conn, &row.kid, &sealed, SEALING_SCHEME)?;
    }
    Ok(plain.len())
}

/// A new key that every instance signs with from `publish_ahead` on (published in the JWKS at
/// once); the previous one verifies until its last token expires. Plain stored keys are sealed
/// on the way when a key-encryption key is configured. Returns the new kid and its activation.
pub async fn rotate(
    state: &AppState,
    publish_ahead: Duration,
) -> Result<(String, DateTime<Utc>), Error> {
    stored_keys_only(&state.config)?;
    let kek = key_encryption_key(&state.config)?;
    let alg = state.config.jwt_alg;
    db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            SigningKeyRow::lock_table(conn)?;
            if let Some(kek) = &kek {
                seal_plain_keys(conn, kek)?;
            }
            let activated_at = clock::now(conn)? + publish_ahead;
            let kid = insert_new_key(conn, alg, kek.as_ref(), activated_at)?;
            Ok((kid, activated_at))
        })
    })
    .await
}

/// The emergency brake: the key stops verifying everywhere (within the refresh bound). When it
/// was the key that signs, a new one takes over at once. Returns the kid of a replacement, if
/// one was made.
pub async fn retire(state: &AppState, kid: String) -> Result<Option<String>, Error> {
    let kek = key_encryption_key(&state.config)?;
    db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            SigningKeyRow::lock_table(conn)?;
            let row = SigningKeyRow::find(conn, &kid)?
                .ok_or_else(|| Error::Invalid(format!("no key with kid {kid:?}")))?;
            let now = clock::now(conn)?;
            let alg = match row.alg.as_str() {
                "EdDSA" => Some(JwtAlg::EdDSA),
                "ES256" => Some(JwtAlg::Es256),
                "RS256" => Some(JwtAlg::Rs256),
                _ => None,
            };
            // Whether this key signs now: then a new key must take over, never an older one,
            // which may be what leaked too.
            let was_signing = match alg {
                Some(alg) => {
                    let rows = SigningKeyRow::live(conn, alg.as_str())?;
                    signing_index(&rows, now).is_some_and(|i| rows[i].kid == kid)
                }
                None => false,
            };
            if !SigningKeyRow::retire(conn, &kid, now)? {
                return Err(Error::Invalid(format!("key {kid} is already retired")));
            }
            match alg {
                Some(alg) if was_signing => insert_new_key(conn, alg, kek.as_ref(), now).map(Some),
                _ => Ok(None),
            }
        })
    })
    .await
}

/// Seals every plain stored private key with the configured key-encryption key; returns how
/// many were sealed.
pub async fn seal_stored(state: &AppState) -> Result<usize, Error> {
    let kek = key_encryption_key(&state.config)?.ok_or_else(|| {
        Error::Invalid("AUTHD_KEY_ENCRYPTION_KEY: not set; nothing to encrypt with".into())
    })?;
    db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            SigningKeyRow::lock_table(conn)?;
            seal_plain_keys(conn, &kek)
        })
    })
    .await
}
