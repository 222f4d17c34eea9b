/* SPDX-License-Identifier: MIT */
/* What a button remembers across links: its pairings (the oldest goes when
 * all slots are taken), and the factory reset that forgets them with the
 * event counter and boot id. */
#include <string.h>

#include <openssl/crypto.h>

#include "button-internal.h"
#include "lib/log.h"

struct pairing *btn_find_pairing(struct fs_button *b, uint32_t id)
{
	for (size_t i = 0; i < b->n_pairings; i++)
		if (b->pairings[i].id == id)
			return &b->pairings[i];
	return NULL;
}

void btn_store_pairing(struct fs_button *b, uint32_t id,
			  const uint8_t key[16])
{
	struct pairing *p = btn_find_pairing(b, id);

	if (!p) {
		if (b->n_pairings < MAX_PAIRINGS) {
			p = &b->pairings[b->n_pairings++];
		} else {
			p = &b->pairings[0];
			for (size_t i = 1; i < b->n_pairings; i++)
				if (b->pairings[i].seq < p->seq)
					p = &b->pairings[i];
		}
	}
	p->id = id;
	memcpy(p->key, key, 16);
	p->seq = ++b->pairing_seq;
}

void btn_factory_reset(struct fs_button *b)
{
	log_info("%s: factory reset: %zu pairings forgotten", b->address, b->n_pairings);
	OPENSSL_cleanse(b->pairings, sizeof(b->pairings));
	b->n_pairings = 0;
	b->event_count = 0;
	b->n_queue = 0;
	b->boot_id++;
	b->boot_usec = now_usec(b);
	b->public_mode = false;
	b->adv_after_press = b->adv_reconnect = false;
	memset(&b->advp, 0, sizeof(b->advp));	/* a new boot forgets them */
	disarm(&b->public_timer);
	disarm(&b->adv_timer);
	btn_end_session(b);
	if (b->linked) {
		b->save_battery_disconnect = true;
		b->ops->terminate_link(b, b->userdata);
	}
	adv_changed(b);
}

void fs_button_factory_reset(struct fs_button *b)
{
	btn_factory_reset(b);
}
