// Bun peer of the xws benchmarks: Bun.serve's native WebSocket with its pub/sub, the same
// protocol as the Rust baselines: echo on every path but /chat, the chat protocol on /chat.
const port = Number(process.env.PORT ?? 8080);

Bun.serve({
  hostname: "127.0.0.1",
  port,
  fetch(request, server) {
    const chat = new URL(request.url).pathname === "/chat";
    if (server.upgrade(request, { data: { chat } })) return undefined;
    return new Response("bun bench peer\n");
  },
  websocket: {
    perMessageDeflate: false,
    message(ws, message) {
      if (!ws.data.chat) {
        ws.send(message);
        return;
      }
      let request;
      try {
        request = JSON.parse(message);
      } catch {
        return;
      }
      if (request.type === "join-room") {
        ws.subscribe(`room:${request.roomId}`);
        ws.send(JSON.stringify({ type: "joined", roomId: request.roomId }));
      } else if (request.type === "send-to-room") {
        // ws.publish reaches every subscriber but the sender.
        const delivery = { type: "message", roomId: request.roomId, text: request.text };
        ws.publish(`room:${request.roomId}`, JSON.stringify(delivery));
      }
    },
  },
});
console.log(`bun listening on 127.0.0.1:${port}`);
