import net from 'node:net';

/**
 * Whether something listens on the unix socket at `socketPath`: a socket file exists from bind() on, a moment
 * before listen(), and also after its server died; only a connection tells (it is closed at once).
 */
export function socketAnswers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.createConnection(socketPath);
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}
