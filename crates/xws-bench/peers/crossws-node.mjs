// crossws peer of the xws benchmarks: the Node adapter (on `ws`), the same protocol as the
// Rust baselines: echo on every path but /chat, the chat protocol on /chat.
import { createServer } from "node:http";
import crossws from "crossws/adapters/node";

const port = Number(process.env.PORT ?? 8080);

const ws = crossws({
  hooks: {
    open(peer) {
      peer.context.chat = new URL(peer.request.url, "http://localhost").pathname === "/chat";
    },
    message(peer, message) {
      if (!peer.context.chat) {
        peer.send(message.rawData);
        return;
      }
      let request;
      try {
        request = message.json();
      } catch {
        return;
      }
      if (request.type === "join-room") {
        peer.subscribe(`room:${request.roomId}`);
        peer.send(JSON.stringify({ type: "joined", roomId: request.roomId }));
      } else if (request.type === "send-to-room") {
        const delivery = { type: "message", roomId: request.roomId, from: peer.id, text: request.text };
        peer.publish(`room:${request.roomId}`, JSON.stringify(delivery));
      }
    },
  },
});

const server = createServer((_request, response) => response.end("crossws-node bench peer\n"));
server.on("upgrade", (request, socket, head) => ws.handleUpgrade(request, socket, head));
server.listen({ port, host: "127.0.0.1", backlog: 16384 }, () => {
  console.log(`crossws-node listening on 127.0.0.1:${port}`);
});
