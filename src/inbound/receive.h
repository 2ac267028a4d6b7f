/*
 * receive: POST /in/{sourceId}, the receiving endpoint of a source.
 *
 * The source's verification is the request's auth (no bearer token): the
 * source comes from the registry, so an id that names no source costs one
 * lookup in memory and never reaches the store, and the API mutex is never
 * taken. In order, a request must:
 *   name a source             else 404 (nothing recorded: no source to
 *                             record it for);
 *   come from an allowed      the client address is the socket's peer, or,
 *   address                   when the peer is a --trusted-proxy, what
 *                             X-Forwarded-For says (core/netaddr); else 403
 *                             (a malformed X-Forwarded-For from a trusted
 *                             proxy, or more than NETADDR_XFF_MAX lines of
 *                             it: 400);
 *   fit maxBodyBytes          else 413;
 *   pass verification         on the raw body bytes (core/verifier); else 401;
 *   be a readable receipt     JSON with the source's id, event and date
 *                             (core/receipt); else 400 with the reason.
 * Each refusal after the source is known goes to that source's rejections
 * list (time, address, status and reason; never the body or a credential)
 * through the group commit, at most REJECTIONS_PER_SECOND a second over all
 * sources so a flood of bad requests cannot flood the store.
 *
 * An accepted request becomes a receipt job (deliver/engine.h) and is
 * answered 200 {"id": …} only once its round has committed; a sender's id
 * the source has seen is answered 200 with the first receipt's id and
 * "duplicate": true, and nothing else happens. The receipt keeps the
 * request's headers without credentials (Authorization, Cookie,
 * Proxy-Authorization and whatever header the source's verification reads)
 * and without X-Gancho-Origin, which marks gancho's own synthetic receipts.
 */
#ifndef GANCHO_INBOUND_RECEIVE_H
#define GANCHO_INBOUND_RECEIVE_H

#include "api/api.h"

struct registry;
struct engine;
struct netaddr_list;

#define REJECTIONS_PER_SECOND 100

/* inbound_receive: handle one request for source id; API_DONE (req holds
 * the answer) or API_PENDING (req->complete runs after the commit). */
int inbound_receive(struct registry *reg, struct engine *eng, const struct netaddr_list *trusted,
                    struct api_req *req, const char *id);

/* inbound_refused: the HTTP server refused a request to source id before it
 * reached inbound_receive (a body over the source's maxBodyBytes, 413): it
 * goes to that source's rejections list all the same. req holds the head
 * (headers, peer); nothing when id names no source. */
void inbound_refused(struct registry *reg, struct engine *eng, const struct netaddr_list *trusted,
                     const struct api_req *req, const char *id, int status, const char *code,
                     const char *msg);

#endif
