package org.outlierlab.dataprep.corpus;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * A whole file (plain or gzip) as one document, streamed in segments of bounded size so a large book never
 * sits in memory as text. Invalid UTF-8 anywhere makes the whole document a bad record.
 */
public final class TextDocumentReader {
  /** Segments are emitted once this many characters are pending and a safe cut exists. */
  static final int SEGMENT_CHARS = 1 << 16;
  /** Past this, a segment is cut even without a safe point (only pathological text gets here). */
  static final int MAX_SEGMENT_CHARS = 1 << 22;

  private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
      .onMalformedInput(CodingErrorAction.REPORT)
      .onUnmappableCharacter(CodingErrorAction.REPORT);

  public void read(InputStream raw, String source, long length, DocumentSink sink) {
    if (length == 0) {
      sink.bad(BadRecord.EMPTY_FILE);
      return;
    }
    utf8.reset();
    StringBuilder pending = new StringBuilder();
    ByteBuffer bytes = ByteBuffer.allocate(1 << 16);
    CharBuffer chars = CharBuffer.allocate(1 << 16);
    boolean begun = false;
    long totalChars = 0;
    try (InputStream in = Streams.maybeGunzip(raw, source)) {
      sink.begin(new DocumentInfo(source, 0, null, null, null));
      begun = true;
      boolean eof = false;
      while (!eof) {
        int n = in.read(bytes.array(), bytes.position(), bytes.remaining());
        eof = n < 0;
        if (n > 0) {
          bytes.position(bytes.position() + n);
        }
        bytes.flip();
        CoderResult result = utf8.decode(bytes, chars, eof);
        if (eof && !result.isError()) {
          result = utf8.flush(chars);
        }
        if (result.isError()) {
          sink.bad(BadRecord.INVALID_UTF8);
          return;
        }
        bytes.compact();
        chars.flip();
        totalChars += chars.remaining();
        pending.append(chars);
        chars.clear();
        emitReady(pending, sink);
      }
    } catch (IOException e) {
      sink.bad(begun ? Streams.reasonFor(e) : BadRecord.UNREADABLE_FILE);
      return;
    }
    if (totalChars == 0) {
      sink.bad(BadRecord.EMPTY_FILE);
      return;
    }
    sink.text(pending);
    sink.end();
  }

  private static void emitReady(StringBuilder pending, DocumentSink sink) {
    if (pending.length() < SEGMENT_CHARS) {
      return;
    }
    int cut = SafeCuts.last(pending);
    if (cut <= 0 && pending.length() >= MAX_SEGMENT_CHARS) {
      cut = pending.length();
    }
    if (cut > 0) {
      sink.text(pending.substring(0, cut));
      pending.delete(0, cut);
    }
  }
}
