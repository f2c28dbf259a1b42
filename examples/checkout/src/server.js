// The checkout service the example deploys: a tiny HTTP server. /healthz for the readiness probe;
// FAIL_RATE (0..1) makes a share of requests answer 503, to see a canary fail its analysis.
const http = require('http');

const failRate = Number(process.env.FAIL_RATE || 0);
http
  .createServer((req, res) => {
    if (req.url === '/healthz') return res.end('ok');
    if (Math.random() < failRate) {
      res.statusCode = 503;
      return res.end('unavailable');
    }
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ service: 'checkout', version: process.env.VERSION || 'dev' }));
  })
  .listen(8080);
