// Verify smm-sink's logged requests the way a receiver does, with the
// Standard Webhooks reference library (npm "standardwebhooks"):
//
//   node stdwebhooks-verify.js SINK_LOG PATH SECRET
//
// SECRET is what the receiver was given: "whsec_<base64>". For each
// request to PATH, prints "ok <webhook-id>" or "bad <webhook-id> <why>".
"use strict";
const fs = require("fs");
const { Webhook } = require("standardwebhooks");

const [log, path, secret] = process.argv.slice(2);
const wh = new Webhook(secret);
for (const line of fs.readFileSync(log, "utf8").split("\n")) {
	if (line === "")
		continue;
	const r = JSON.parse(line);
	if (r.path !== path)
		continue;
	try {
		wh.verify(r.body, r.headers);
		console.log(`ok ${r.headers["webhook-id"]}`);
	} catch (e) {
		console.log(`bad ${r.headers["webhook-id"]} ${e.message}`);
	}
}
