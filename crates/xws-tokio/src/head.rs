//! The first request head of a connection under [`serve`](crate::serve),
//! read without hyper so that a WebSocket upgrade never allocates hyper's
//! two 8 KiB buffers (freed right after the handshake, they fragment the
//! heap that lasting connections live in).

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Uri, Version, header};
use std::{io, time::Duration};
use tokio::net::TcpStream;

/// The first read: a browser's upgrade request fits.
const FIRST_READ: usize = 1024;
/// A head still incomplete at this size goes to hyper, whose own limits
/// then apply.
const MAX_HEAD: usize = 8 * 1024;
/// hyper's limit on the number of headers.
const MAX_HEADERS: usize = 100;

/// What the first head of a connection turned out to be.
pub(crate) enum Head {
    /// A WebSocket upgrade request (it has an `Upgrade` header, as
    /// `serve`'s routes ask), read whole with nothing past it. Its header
    /// values are slices of `read`.
    Upgrade {
        request: Box<Request<()>>,
        read: Bytes,
    },
    /// Anything else, for hyper to parse and answer: the bytes read so far.
    Http(Bytes),
    /// The client closed, failed, or sent no complete head in `timeout`.
    Gone,
}

/// Reads the first request head from `stream` within `timeout`.
pub(crate) async fn read(stream: &mut TcpStream, timeout: Duration) -> Head {
    // Allocated once the first bytes are there: a client that has not
    // sent yet holds no buffer, and a head that comes in one piece (most)
    // is read and parsed in one go.
    let mut buf = BytesMut::new();
    let whole = async {
        loop {
            stream.readable().await?;
            if buf.len() == buf.capacity() {
                buf.reserve(buf.len().max(FIRST_READ));
            }
            match stream.try_read_buf(&mut buf) {
                Ok(0) => return Err(io::Error::from(io::ErrorKind::UnexpectedEof)),
                Ok(_) => {}
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => continue,
                Err(error) => return Err(error),
            }
            match head_length(&buf) {
                HeadLength::Partial if buf.len() < MAX_HEAD => {}
                HeadLength::Partial | HeadLength::Invalid => return Ok(false),
                HeadLength::Complete(length) => return Ok::<_, io::Error>(length == buf.len()),
            }
        }
    };
    match tokio::time::timeout(timeout, whole).await {
        Ok(Ok(true)) => {
            let read = buf.freeze();
            match upgrade_request(&read) {
                Some(request) => Head::Upgrade {
                    request: Box::new(request),
                    read,
                },
                None => Head::Http(read),
            }
        }
        Ok(Ok(false)) => Head::Http(buf.freeze()),
        Ok(Err(error)) => {
            tracing::debug!(%error, "the client left before its request head");
            Head::Gone
        }
        Err(_) => Head::Gone,
    }
}

enum HeadLength {
    Partial,
    Invalid,
    Complete(usize),
}

fn head_length(buf: &[u8]) -> HeadLength {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    match httparse::Request::new(&mut headers).parse(buf) {
        Ok(httparse::Status::Complete(length)) => HeadLength::Complete(length),
        Ok(httparse::Status::Partial) => HeadLength::Partial,
        Err(_) => HeadLength::Invalid,
    }
}

/// `head` as a request, if it is an HTTP/1.1 request with an `Upgrade`
/// header and no body; anything unusual is left to hyper.
fn upgrade_request(head: &Bytes) -> Option<Request<()>> {
    let mut parsed_headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut parsed_headers);
    parsed.parse(head).ok()?;
    if parsed.version != Some(1) {
        return None;
    }
    let mut headers = HeaderMap::with_capacity(parsed.headers.len());
    for parsed_header in parsed.headers.iter() {
        let name = HeaderName::from_bytes(parsed_header.name.as_bytes()).ok()?;
        let value = HeaderValue::from_maybe_shared(head.slice_ref(parsed_header.value)).ok()?;
        headers.append(name, value);
    }
    let has_body = headers.contains_key(header::CONTENT_LENGTH)
        || headers.contains_key(header::TRANSFER_ENCODING);
    if !headers.contains_key(header::UPGRADE) || has_body {
        return None;
    }
    let uri = Uri::from_maybe_shared(head.slice_ref(parsed.path?.as_bytes())).ok()?;
    let mut request = Request::new(());
    *request.method_mut() = Method::from_bytes(parsed.method?.as_bytes()).ok()?;
    *request.uri_mut() = uri;
    *request.version_mut() = Version::HTTP_11;
    *request.headers_mut() = headers;
    Some(request)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::{io::AsyncWriteExt, net::TcpListener};

    const UPGRADE: &str = "GET /chat?room=1 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n\
        Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";

    /// What `read` makes of `sent`, written in pieces of `piece` bytes.
    async fn head_of(sent: Vec<u8>, piece: usize, timeout: Duration) -> Head {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = tokio::spawn(async move {
            let mut client = TcpStream::connect(addr).await.unwrap();
            for chunk in sent.chunks(piece) {
                client.write_all(chunk).await.unwrap();
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            // Held open until the server has read.
            std::future::pending::<()>().await;
        });
        let (mut stream, _) = listener.accept().await.unwrap();
        let head = tokio::time::timeout(Duration::from_secs(10), read(&mut stream, timeout))
            .await
            .expect("the head's read to end");
        client.abort();
        head
    }

    fn with_blank_line(head: &str) -> Vec<u8> {
        format!("{head}\r\n").into_bytes()
    }

    #[tokio::test]
    async fn an_upgrade_is_read_whole_even_in_pieces() {
        let head = head_of(with_blank_line(UPGRADE), 7, Duration::from_secs(5)).await;
        let Head::Upgrade { request, read } = head else {
            panic!("not taken as an upgrade");
        };
        assert_eq!(read.len(), UPGRADE.len() + 2);
        assert_eq!(request.method(), Method::GET);
        assert_eq!(request.uri().path(), "/chat");
        assert_eq!(request.uri().query(), Some("room=1"));
        assert_eq!(request.headers()[header::UPGRADE], "websocket");
        assert_eq!(request.headers().len(), 5);
    }

    #[tokio::test]
    async fn a_head_larger_than_the_first_read_grows_the_buffer() {
        let cookie = "c".repeat(3 * FIRST_READ);
        let sent = with_blank_line(&format!("{UPGRADE}Cookie: {cookie}\r\n"));
        let Head::Upgrade { request, .. } = head_of(sent, 512, Duration::from_secs(5)).await else {
            panic!("not taken as an upgrade");
        };
        assert_eq!(request.headers()[header::COOKIE], cookie.as_str());
    }

    #[tokio::test]
    async fn everything_else_goes_to_hyper_with_the_bytes_read() {
        let others = [
            "GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_owned(),
            // HTTP/1.0, a body, and bytes past the head: hyper's rules.
            format!("{}\r\n", UPGRADE.replace("HTTP/1.1", "HTTP/1.0")),
            format!("{UPGRADE}Content-Length: 2\r\n\r\nhi"),
            format!("{UPGRADE}\r\nearly"),
            "GET / HTTP/1.1\r\nBad Header\r\n\r\n".to_owned(),
            format!("{UPGRADE}X-Big: {}\r\n", "b".repeat(MAX_HEAD)),
        ];
        for sent in others {
            let sent = sent.into_bytes();
            match head_of(sent.clone(), 4096, Duration::from_secs(5)).await {
                Head::Http(read) => assert!(sent.starts_with(&read) && !read.is_empty()),
                Head::Upgrade { .. } => panic!("taken as an upgrade: {sent:?}"),
                Head::Gone => panic!("dropped: {sent:?}"),
            }
        }
    }

    #[tokio::test]
    async fn a_head_not_finished_in_time_is_dropped() {
        let head = head_of(
            UPGRADE.as_bytes().to_vec(),
            4096,
            Duration::from_millis(300),
        )
        .await;
        assert!(matches!(head, Head::Gone));
    }
}
