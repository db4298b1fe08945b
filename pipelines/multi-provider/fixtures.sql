-- The app before the migration: it knew one provider, Strava.
DROP SCHEMA IF EXISTS multi_provider CASCADE;
CREATE SCHEMA multi_provider;
SET search_path = multi_provider;

CREATE TABLE users (
	id         integer PRIMARY KEY,
	email      text NOT NULL UNIQUE,
	name       text NOT NULL,
	created_at timestamptz NOT NULL
);

CREATE TABLE strava_connections (
	id             integer PRIMARY KEY,
	user_id        integer NOT NULL UNIQUE REFERENCES users (id),
	athlete_id     bigint NOT NULL UNIQUE,
	access_token   text NOT NULL,
	refresh_token  text NOT NULL,
	expires_at     integer NOT NULL,          -- seconds since 1970, as Strava sends it
	scope          text,
	firstname      text,
	lastname       text,
	profile_medium text,
	city           text,
	country        text,
	sex            char(1),
	premium        boolean,
	created_at     timestamptz NOT NULL,
	updated_at     timestamptz NOT NULL
);

CREATE TABLE activities (
	id                 integer PRIMARY KEY,
	user_id            integer NOT NULL REFERENCES users (id),
	source             text NOT NULL CHECK (source IN ('strava', 'manual')),
	strava_activity_id bigint UNIQUE,
	athlete_id         bigint,
	name               text,
	sport_type         text,
	distance_m         numeric(10, 1),
	moving_time_s      integer,
	started_at         timestamptz NOT NULL
);
