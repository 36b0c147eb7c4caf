// Faults that the test provider's token endpoint can be told to produce (PUT /test/token-fault),
// so that a test can show how a client copes with a slow, failing or broken provider. Shared by
// the test routes (which set it) and the token endpoint (which applies it); runs on the
// provider's single Node.js thread.
//
// A fault is {"mode": ..., "count": n} where count (optional) limits how many token requests
// get it, after which the endpoint behaves normally again. Modes:
//   none     no fault
//   status   answer `status` (default 500) with `body` (default a JSON error) and `content_type`
//   garbage  answer 200 with a body that is not JSON
//   delay    wait `delay_ms` milliseconds, then answer normally
//   close    drop the connection without answering

const k_modes = ['none', 'status', 'garbage', 'delay', 'close'];

export class token_faults {
    constructor() {
        this.fault = { mode: 'none' };
    }

    // Installs `spec`; returns an error message for a malformed one (and keeps the old fault).
    set(spec) {
        if (!k_modes.includes(spec.mode)) {
            return `mode must be one of ${k_modes.join(', ')}`;
        }
        const status = spec.status ?? 500;
        if (!Number.isInteger(status) || status < 200 || status > 599) {
            return 'status must be an HTTP status';
        }
        if (spec.count !== undefined && !(Number.isInteger(spec.count) && spec.count > 0)) {
            return 'count must be a positive integer';
        }
        this.fault = {
            mode: spec.mode,
            status,
            body: spec.body ?? '{"error":"temporarily_unavailable"}',
            content_type: spec.content_type ?? 'application/json',
            delay_ms: spec.delay_ms ?? 1000,
            remaining: spec.count ?? Infinity,
        };
        return null;
    }

    describe() {
        const { mode, remaining } = this.fault;
        return { mode, remaining: remaining === Infinity ? null : remaining };
    }

    // Applies the current fault to the request in ctx. Resolves to true when the fault took the
    // request over (answered or dropped it), false when it should be handled normally.
    async apply(ctx) {
        const fault = this.fault;
        if (fault.mode === 'none') {
            return false;
        }
        fault.remaining -= 1;
        if (fault.remaining <= 0) {
            this.fault = { mode: 'none' };
        }

        switch (fault.mode) {
        case 'delay':
            await new Promise((resolve) => setTimeout(resolve, fault.delay_ms));
            return false;
        case 'status':
            ctx.status = fault.status;
            ctx.type = fault.content_type;
            ctx.body = fault.body;
            return true;
        case 'garbage':
            ctx.status = 200;
            ctx.type = 'application/json';
            ctx.body = '<html><body>this is not JSON';
            return true;
        default: // close
            ctx.respond = false;
            ctx.req.socket.destroy();
            return true;
        }
    }
}
