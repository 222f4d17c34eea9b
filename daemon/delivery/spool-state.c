/* SPDX-License-Identifier: MIT */
/* The spool's state records: small named values (a button's event counter,
 * its alert state) kept in the alert journal, latest value per name. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "delivery/spool-internal.h"
#include "delivery/spool-record.h"

static struct spool_state *find(const struct fg_spool *s, const char *key, size_t key_len)
{
	for (size_t i = 0; i < s->n_states; i++)
		if (strlen(s->states[i].key) == key_len && memcmp(s->states[i].key, key, key_len) == 0)
			return &s->states[i];
	return NULL;
}

static struct spool_state *add(struct fg_spool *s, const char *key, size_t key_len)
{
	struct spool_state *n = reallocarray(s->states, s->n_states + 1, sizeof(*n));
	char *k = strndup(key, key_len);

	if (n)
		s->states = n;
	if (!n || !k) {
		free(k);
		return NULL;
	}
	n[s->n_states] = (struct spool_state){ .key = k };
	return &n[s->n_states++];
}

static int set_value(struct spool_state *st, const char *value, size_t len)
{
	char *v = malloc(len + 1);

	if (!v)
		return -ENOMEM;
	memcpy(v, value, len);
	v[len] = '\0';
	free(st->value);
	st->value = v;
	st->len = len;
	return 0;
}

int spool_state_loaded(struct fg_spool *s, const char *key, size_t key_len, const char *value,
		       size_t len, uint64_t seq, size_t slot, size_t k)
{
	struct spool_state *st = find(s, key, key_len);

	if (st && st->seq > seq)
		/* an older value, superseded: its slots are free space */
		return 0;
	if (!st && !(st = add(s, key, key_len)))
		return -ENOMEM;
	if (set_value(st, value, len) < 0)
		return -ENOMEM;
	if (st->n_slots)
		spool_slots_release(s, st->slot, st->n_slots);
	st->seq = seq;
	st->slot = (uint32_t)slot;
	st->n_slots = (uint32_t)k;
	st->durable = true;
	spool_slots_take(s, slot, k);
	return 1;
}

/* Encode and write @st's value as its record, unsynced. */
static int put_state(struct fg_spool *s, struct spool_state *st)
{
	char name[FG_SPOOL_STATE_KEY_MAX + 2];
	uint8_t *buf = NULL;
	size_t k;
	int r;

	name[0] = FG_SPOOL_STATE_PREFIX;
	strcpy(name + 1, st->key);
	r = fg_spool_record_encode(st->seq, name, st->value, st->len, &buf, &k);
	if (r < 0)
		return r;
	r = spool_put_slots(s, buf, k, &st->slot, &st->n_slots);
	free(buf);
	return r;
}

int fg_spool_stage_state(struct fg_spool *s, const char *key, const char *value, size_t len)
{
	size_t key_len = strlen(key);
	struct spool_state *st;
	int r;

	if (key_len == 0 || key_len > FG_SPOOL_STATE_KEY_MAX)
		return -EINVAL;
	st = find(s, key, key_len);
	if (!st && !(st = add(s, key, key_len)))
		return -ENOMEM;
	if (st->value && st->len == len && memcmp(st->value, value, len) == 0 &&
	    (st->durable || st->staged))
		return 0;
	r = set_value(st, value, len);
	if (r < 0)
		return r;
	if (st->durable && st->n_slots && !st->old_n_slots) {
		/* the durable value stays where it is until the new one is flushed */
		st->old_slot = st->slot;
		st->old_n_slots = st->n_slots;
		st->n_slots = 0;
	}
	st->seq = s->next_seq++;
	st->durable = false;
	if (!st->staged) {
		st->staged = true;
		s->states_staged++;
	}
	r = put_state(s, st);
	if (r < 0) {
		/* memory only: the commit says so, fg_spool_flush() retries */
		st->staged = false;
		s->states_staged--;
		return r == -ENOMEM || r == -EINVAL ? r : 1;
	}
	return 0;
}

void spool_state_committed(struct fg_spool *s, bool ok)
{
	for (size_t i = 0; i < s->n_states; i++) {
		struct spool_state *st = &s->states[i];

		if (!st->staged)
			continue;
		st->staged = false;
		if (!ok)
			continue;
		st->durable = true;
		if (st->old_n_slots)
			spool_slots_release(s, st->old_slot, st->old_n_slots);
		st->old_n_slots = 0;
	}
	s->states_staged = 0;
}

int spool_state_flush(struct fg_spool *s)
{
	bool put = false;
	int r = 0;

	for (size_t i = 0; i < s->n_states && r >= 0; i++) {
		struct spool_state *st = &s->states[i];

		if (st->durable || st->staged || !st->value)
			continue;
		r = put_state(s, st);
		put = r >= 0;
	}
	if (r >= 0 && put)
		r = spool_sync(s);
	if (r < 0)
		return r;
	for (size_t i = 0; i < s->n_states; i++) {
		struct spool_state *st = &s->states[i];

		if (st->durable || st->staged || !st->value)
			continue;
		st->durable = true;
		if (st->old_n_slots)
			spool_slots_release(s, st->old_slot, st->old_n_slots);
		st->old_n_slots = 0;
	}
	return 0;
}

void spool_state_clear(struct fg_spool *s)
{
	for (size_t i = 0; i < s->n_states; i++) {
		free(s->states[i].key);
		free(s->states[i].value);
	}
	free(s->states);
	s->states = NULL;
	s->n_states = 0;
}

int fg_spool_get_state(const struct fg_spool *s, const char *key, const char **ret,
		       size_t *ret_len)
{
	const struct spool_state *st = find(s, key, strlen(key));

	if (!st || !st->value)
		return -ENOENT;
	*ret = st->value;
	*ret_len = st->len;
	return 0;
}

size_t spool_state_not_durable(const struct fg_spool *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n_states; i++)
		n += s->states[i].value && !s->states[i].durable && !s->states[i].staged;
	return n;
}

size_t fg_spool_n_states(const struct fg_spool *s)
{
	return s->n_states;
}

const char *fg_spool_state_key(const struct fg_spool *s, size_t i)
{
	return i < s->n_states ? s->states[i].key : NULL;
}
