package org.outlierlab.dataprep.corpus;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * CodeParrot's JSON lines (plain or gzip): one object per line, the text in a configurable field and
 * {@code repo_name}, {@code path}, {@code license} kept as provenance. Each line is one document; a line that
 * is not valid UTF-8, not a JSON object, or lacks a string text field is counted and skipped. A truncated or
 * corrupt gzip stream keeps the lines read before the damage and counts the rest as one bad record.
 */
public final class JsonLinesReader {
  private final ObjectMapper json = new ObjectMapper();
  private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
      .onMalformedInput(CodingErrorAction.REPORT)
      .onUnmappableCharacter(CodingErrorAction.REPORT);
  private final String textField;

  public JsonLinesReader(String textField) {
    this.textField = textField;
  }

  public void read(InputStream raw, String source, DocumentSink sink) {
    long index = 0;
    boolean sawRecord = false;
    try (InputStream in = new BufferedInputStream(Streams.maybeGunzip(raw, source), 1 << 16)) {
      LineBuffer line = new LineBuffer();
      while (line.readFrom(in)) {
        if (line.isBlank()) {
          continue;
        }
        sawRecord = true;
        readRecord(line, source, index++, sink);
      }
    } catch (IOException e) {
      sink.bad(Streams.reasonFor(e));
      return;
    }
    if (!sawRecord) {
      sink.bad(BadRecord.EMPTY_FILE);
    }
  }

  private void readRecord(LineBuffer line, String source, long index, DocumentSink sink) {
    String text;
    try {
      text = utf8.decode(ByteBuffer.wrap(line.bytes, 0, line.length)).toString();
    } catch (CharacterCodingException e) {
      sink.bad(BadRecord.INVALID_UTF8);
      return;
    }
    JsonNode record;
    try {
      record = json.readTree(text);
    } catch (JsonProcessingException e) {
      sink.bad(BadRecord.MALFORMED_JSON);
      return;
    }
    if (record == null || !record.isObject()) {
      sink.bad(BadRecord.MALFORMED_JSON);
      return;
    }
    JsonNode content = record.get(textField);
    if (content == null || !content.isTextual()) {
      sink.bad(BadRecord.MISSING_FIELD);
      return;
    }
    String body = content.textValue();
    if (BadRecord.hasLoneSurrogate(body)) {
      sink.bad(BadRecord.INVALID_UNICODE);
      return;
    }
    sink.begin(new DocumentInfo(
        source, index, text(record, "repo_name"), text(record, "path"), text(record, "license")));
    sink.text(body);
    sink.end();
  }

  private static String text(JsonNode record, String field) {
    JsonNode node = record.get(field);
    return node != null && node.isTextual() ? node.textValue() : null;
  }

  /** One line's bytes, without its line feed (and carriage return). */
  private static final class LineBuffer {
    byte[] bytes = new byte[1 << 14];
    int length;

    boolean readFrom(InputStream in) throws IOException {
      length = 0;
      int b;
      boolean any = false;
      while ((b = in.read()) >= 0) {
        any = true;
        if (b == '\n') {
          break;
        }
        if (length == bytes.length) {
          bytes = java.util.Arrays.copyOf(bytes, 2 * length);
        }
        bytes[length++] = (byte) b;
      }
      if (length > 0 && bytes[length - 1] == '\r') {
        length--;
      }
      return any;
    }

    boolean isBlank() {
      for (int i = 0; i < length; i++) {
        if (bytes[i] != ' ' && bytes[i] != '\t') {
          return false;
        }
      }
      return true;
    }
  }
}
