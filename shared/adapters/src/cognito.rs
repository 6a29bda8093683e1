//! The console's users in Amazon Cognito: provisioning the local user pool (the deployed one
//! comes from template.yaml), the users `gatewayctl users` manages, and the sign-in call.
//!
//! A user belongs to one company (`custom:company_id`) with one role (`custom:role`: admin,
//! operator or viewer); members of the group `platform-admins` may look at every company.

use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::types::{
    AttributeDataType, AttributeType, AuthFlowType, ExplicitAuthFlowsType, MessageActionType,
    PreventUserExistenceErrorTypes, SchemaAttributeType, UserType,
};
use gateway_domain::StoreError;

/// The group whose members see every company.
pub const PLATFORM_ADMINS: &str = "platform-admins";
pub const COMPANY_ATTRIBUTE: &str = "custom:company_id";
pub const ROLE_ATTRIBUTE: &str = "custom:role";

/// What a console user may do in their company.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Reads everything, changes nothing.
    Viewer,
    /// Works cases: redelivery, status, priority, notes.
    Operator,
    /// Also sends test webhooks.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    pub fn parse(value: &str) -> Option<Role> {
        match value {
            "viewer" => Some(Role::Viewer),
            "operator" => Some(Role::Operator),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// A pool and its console app client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPool {
    pub pool_id: String,
    pub client_id: String,
}

fn err(context: &str, e: impl Into<gateway_domain::error::BoxError>) -> StoreError {
    StoreError::unavailable(context, e)
}

/// Creates (or finds, by name) a user pool shaped like template.yaml's: admin-created users
/// only, the two custom attributes, the platform-admins group and a public app client for
/// USER_PASSWORD_AUTH.
pub async fn provision_user_pool(client: &Client, name: &str) -> Result<UserPool, StoreError> {
    let pools = client
        .list_user_pools()
        .max_results(60)
        .send()
        .await
        .map_err(|e| err("list user pools", e))?;
    let existing = pools
        .user_pools()
        .iter()
        .find(|p| p.name() == Some(name))
        .and_then(|p| p.id().map(str::to_string));
    let pool_id = match existing {
        Some(id) => id,
        None => {
            let attribute = |n: &str| {
                SchemaAttributeType::builder()
                    .name(n)
                    .attribute_data_type(AttributeDataType::String)
                    .mutable(true)
                    .build()
            };
            let created = client
                .create_user_pool()
                .pool_name(name)
                .schema(attribute("company_id"))
                .schema(attribute("role"))
                .admin_create_user_config(
                    aws_sdk_cognitoidentityprovider::types::AdminCreateUserConfigType::builder()
                        .allow_admin_create_user_only(true)
                        .build(),
                )
                .send()
                .await
                .map_err(|e| err("create user pool", e))?;
            created
                .user_pool()
                .and_then(|p| p.id())
                .ok_or_else(|| err("create user pool", "no pool id returned"))?
                .to_string()
        }
    };
    let clients = client
        .list_user_pool_clients()
        .user_pool_id(&pool_id)
        .send()
        .await
        .map_err(|e| err("list user pool clients", e))?;
    let client_id = match clients.user_pool_clients().iter().find_map(|c| c.client_id()) {
        Some(id) => id.to_string(),
        None => client
            .create_user_pool_client()
            .user_pool_id(&pool_id)
            .client_name("console")
            .generate_secret(false)
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
            .prevent_user_existence_errors(PreventUserExistenceErrorTypes::Enabled)
            .send()
            .await
            .map_err(|e| err("create user pool client", e))?
            .user_pool_client()
            .and_then(|c| c.client_id())
            .ok_or_else(|| err("create user pool client", "no client id returned"))?
            .to_string(),
    };
    match client
        .create_group()
        .user_pool_id(&pool_id)
        .group_name(PLATFORM_ADMINS)
        .description("See and switch between every company in the console")
        .send()
        .await
    {
        Ok(_) => {}
        Err(e) if e.as_service_error().is_some_and(|s| s.is_group_exists_exception()) => {}
        Err(e) => return Err(err("create group", e)),
    }
    Ok(UserPool { pool_id, client_id })
}

/// A console user as `gatewayctl users list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleUser {
    pub username: String,
    pub company_id: String,
    pub role: String,
    pub platform_admin: bool,
    pub enabled: bool,
    pub status: String,
}

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub email: Option<&'a str>,
    pub company_id: &'a str,
    pub role: Role,
    pub platform_admin: bool,
    /// Set as the permanent password (the pool's password policy applies).
    pub password: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("user '{0}' exists already")]
    Exists(String),
    #[error("no user '{0}'")]
    NotFound(String),
    #[error("password refused: {0}")]
    Password(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The users of one pool.
#[derive(Clone)]
pub struct ConsoleUsers {
    client: Client,
    pool_id: String,
}

impl ConsoleUsers {
    pub fn new(client: Client, pool_id: impl Into<String>) -> Self {
        Self {
            client,
            pool_id: pool_id.into(),
        }
    }

    pub async fn add(&self, user: &NewUser<'_>) -> Result<(), UserError> {
        let attribute = |n: &str, v: &str| AttributeType::builder().name(n).value(v).build();
        let mut request = self
            .client
            .admin_create_user()
            .user_pool_id(&self.pool_id)
            .username(user.username)
            .message_action(MessageActionType::Suppress)
            .user_attributes(attribute(COMPANY_ATTRIBUTE, user.company_id).map_err(|e| err("attribute", e))?)
            .user_attributes(attribute(ROLE_ATTRIBUTE, user.role.as_str()).map_err(|e| err("attribute", e))?);
        if let Some(email) = user.email {
            request = request.user_attributes(attribute("email", email).map_err(|e| err("attribute", e))?);
        }
        match request.send().await {
            Ok(_) => {}
            Err(e) if e.as_service_error().is_some_and(|s| s.is_username_exists_exception()) => {
                return Err(UserError::Exists(user.username.into()));
            }
            Err(e) => return Err(err("create user", e).into()),
        }
        let password = self
            .client
            .admin_set_user_password()
            .user_pool_id(&self.pool_id)
            .username(user.username)
            .password(user.password)
            .permanent(true)
            .send()
            .await;
        if let Err(e) = password {
            // A user without a usable password is no use: take it back.
            let _ = self.remove(user.username).await;
            return Err(match e.as_service_error() {
                Some(s) if s.is_invalid_password_exception() => {
                    UserError::Password(s.message().unwrap_or("does not meet the policy").into())
                }
                _ => err("set password", e).into(),
            });
        }
        if user.platform_admin {
            self.client
                .admin_add_user_to_group()
                .user_pool_id(&self.pool_id)
                .username(user.username)
                .group_name(PLATFORM_ADMINS)
                .send()
                .await
                .map_err(|e| err("add to group", e))?;
        }
        Ok(())
    }

    /// Every user, or those of one company.
    pub async fn list(&self, company_id: Option<&str>) -> Result<Vec<ConsoleUser>, UserError> {
        let admins: Vec<String> = self
            .client
            .list_users_in_group()
            .user_pool_id(&self.pool_id)
            .group_name(PLATFORM_ADMINS)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| err("list group", e))?
            .iter()
            .filter_map(|u| u.username().map(str::to_string))
            .collect();
        let users: Vec<UserType> = self
            .client
            .list_users()
            .user_pool_id(&self.pool_id)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| err("list users", e))?;
        let mut out: Vec<ConsoleUser> = users
            .iter()
            .map(|u| {
                let attr = |n: &str| {
                    u.attributes()
                        .iter()
                        .find(|a| a.name() == n)
                        .and_then(|a| a.value())
                        .unwrap_or_default()
                        .to_string()
                };
                let username = u.username().unwrap_or_default().to_string();
                ConsoleUser {
                    platform_admin: admins.contains(&username),
                    username,
                    company_id: attr(COMPANY_ATTRIBUTE),
                    role: attr(ROLE_ATTRIBUTE),
                    enabled: u.enabled(),
                    status: u.user_status().map(|s| s.as_str().to_string()).unwrap_or_default(),
                }
            })
            .filter(|u| company_id.is_none_or(|c| u.company_id == c))
            .collect();
        out.sort_by(|a, b| (&a.company_id, &a.username).cmp(&(&b.company_id, &b.username)));
        Ok(out)
    }

    pub async fn remove(&self, username: &str) -> Result<(), UserError> {
        match self
            .client
            .admin_delete_user()
            .user_pool_id(&self.pool_id)
            .username(username)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_user_not_found_exception()) => {
                Err(UserError::NotFound(username.into()))
            }
            Err(e) => Err(err("delete user", e).into()),
        }
    }
}

/// Why a sign-in did not give a token.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Wrong password, unknown or disabled user (never told apart to the person signing in).
    #[error("incorrect username or password")]
    BadCredentials,
    /// The pool wants something first (a new password, a second factor).
    #[error("the account needs attention first: {0}")]
    Challenge(String),
    #[error(transparent)]
    Unavailable(#[from] StoreError),
}

/// USER_PASSWORD_AUTH against the console's app client; returns the ID token.
pub async fn sign_in(client: &Client, client_id: &str, username: &str, password: &str) -> Result<String, SignInError> {
    let result = client
        .initiate_auth()
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .client_id(client_id)
        .auth_parameters("USERNAME", username)
        .auth_parameters("PASSWORD", password)
        .send()
        .await;
    match result {
        Ok(out) => match out.authentication_result().and_then(|r| r.id_token()) {
            Some(token) => Ok(token.to_string()),
            None => Err(SignInError::Challenge(
                out.challenge_name().map(|c| c.as_str().to_string()).unwrap_or_default(),
            )),
        },
        Err(e)
            if e.as_service_error().is_some_and(|s| {
                s.is_not_authorized_exception()
                    || s.is_user_not_found_exception()
                    || s.is_user_not_confirmed_exception()
            }) =>
        {
            Err(SignInError::BadCredentials)
        }
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_password_reset_required_exception()) =>
        {
            Err(SignInError::Challenge("PASSWORD_RESET_REQUIRED".into()))
        }
        Err(e) => Err(SignInError::Unavailable(err("sign in", e))),
    }
}
