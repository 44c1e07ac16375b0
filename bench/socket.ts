import WebSocket from 'ws';

/** A WebSocket, tried again a few times: on a busy machine the first $connect may meet an INIT past its 10 s. */
export async function openSocket(url: string): Promise<WebSocket> {
  for (let attempt = 1; ; attempt++) {
    const socket = new WebSocket(url);
    try {
      await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
      return socket;
    } catch (error) {
      if (attempt >= 5) throw error;
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}
