/*
 * api: the management and ingest API, one file per resource. Handlers take
 * a parsed request (struct api_req) and fill its response; they never see
 * the sockets, so the HTTP layer stays a thin shell around them.
 *
 * Ingest is asynchronous: api_handle returns API_PENDING, the event waits in
 * the committer's queue, and req->complete(req) runs (on the committer thread)
 * once the answer — 202 after COMMIT, or 503 — is in req->status / req->out.
 */
#ifndef GANCHO_API_API_H
#define GANCHO_API_API_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "util/buf.h"
#include "util/gerr.h"

struct registry;
struct engine;
struct netaddr_list;

enum { API_DONE = 0, API_PENDING = 1 };

struct api_header {
	const char *name;
	const char *value;
};

struct api_req {
	const char *method;
	const char *path;
	const char *body;
	size_t body_len;
	/* lookups into the transport's request; NULL when absent */
	const char *(*header)(void *conn, const char *name);
	const char *(*query)(void *conn, const char *name);
	void *conn;
	/* every header as received (names as sent, values NUL-terminated; the
	 * layout of core/verifier's struct verifier_header), for the receiving
	 * path, which verifies signatures over them */
	const struct api_header *headers;
	int nheaders;
	/* the socket's peer address */
	const struct sockaddr *peer;
	/* the answer */
	int status;
	struct buf out;
	char allow[48]; /* a 405's Allow header ("GET, POST"); "" otherwise */
	/* for API_PENDING: called once the answer is ready */
	void (*complete)(struct api_req *req);
};

struct api_config {
	bool dev;                /* http:// and private targets allowed */
	const char *admin_token; /* NULL: admin calls refused */
	const char *db_url;
	/* --trusted-proxy: peers whose X-Forwarded-For names the client of a
	 * receipt (NULL or empty: the socket's peer is the client) */
	const struct netaddr_list *trusted_proxies;
};

struct api;

int api_new(const struct api_config *cfg, struct registry *reg, struct engine *eng,
            struct api **out, struct gerr *err);
void api_free(struct api *a);
/* api_handle: route and run one request; API_DONE or API_PENDING. */
int api_handle(struct api *a, struct api_req *req);
/* api_max_body: the largest body a request to path may have: for a
 * source's URL (/in/{id}) the source's maxBodyBytes, else dflt (--max-body). */
size_t api_max_body(struct api *a, const char *path, size_t dflt);
/* api_refused: the server refused req (its head only) with status before
 * handing it to the API; for a source's URL the refusal joins the source's
 * rejections list. */
void api_refused(struct api *a, const struct api_req *req, int status, const char *code,
                 const char *msg);
/* api_healthy: the store answers and the last commit succeeded. */
bool api_healthy(struct api *a);
/* api_error: fill req with the JSON error body of err. */
void api_error(struct api_req *req, const struct gerr *err);

/* api_company_create_offline: create a company and its first token directly
 * in the database at db_url (the CLI's offline path; the server need not run).
 * id_out gets the UUID, token_out the token (shown once, stored hashed). */
int api_company_create_offline(const char *db_url, const char *name, char *id_out, size_t idsz,
                               char *token_out, size_t tokensz, struct gerr *err);

#endif
