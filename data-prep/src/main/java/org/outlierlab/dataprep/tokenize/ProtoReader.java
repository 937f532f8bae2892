package org.outlierlab.dataprep.tokenize;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** Reads protobuf wire format: just enough to walk a SentencePiece {@code ModelProto}. */
final class ProtoReader {
  private final byte[] buf;
  private int pos;
  private final int end;
  private int tag;

  ProtoReader(byte[] buf) {
    this(buf, 0, buf.length);
  }

  private ProtoReader(byte[] buf, int start, int end) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  /** Advances to the next field; false at the end of the message. */
  boolean next() {
    if (pos >= end) {
      return false;
    }
    tag = (int) varint();
    return true;
  }

  int field() {
    return tag >>> 3;
  }

  long varint() {
    long result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      byte b = at(pos++);
      result |= (long) (b & 0x7f) << shift;
      if (b >= 0) {
        return result;
      }
    }
    throw malformed("varint too long");
  }

  float float32() {
    int bits = (at(pos) & 0xff) | (at(pos + 1) & 0xff) << 8 | (at(pos + 2) & 0xff) << 16 | (at(pos + 3) & 0xff) << 24;
    pos += 4;
    return Float.intBitsToFloat(bits);
  }

  byte[] bytes() {
    int length = (int) varint();
    if (length < 0 || pos + length > end) {
      throw malformed("length out of range");
    }
    byte[] out = Arrays.copyOfRange(buf, pos, pos + length);
    pos += length;
    return out;
  }

  String string() {
    return new String(bytes(), StandardCharsets.UTF_8);
  }

  ProtoReader message() {
    int length = (int) varint();
    if (length < 0 || pos + length > end) {
      throw malformed("length out of range");
    }
    ProtoReader sub = new ProtoReader(buf, pos, pos + length);
    pos += length;
    return sub;
  }

  void skip() {
    switch (tag & 7) {
      case 0 -> varint();
      case 1 -> pos += 8;
      case 2 -> {
        int length = (int) varint(); // not "pos += varint()": that adds to pos as it was before the read
        pos += length;
      }
      case 5 -> pos += 4;
      default -> throw malformed("unsupported wire type " + (tag & 7));
    }
  }

  private byte at(int i) {
    if (i >= end) {
      throw malformed("truncated");
    }
    return buf[i];
  }

  private static IllegalArgumentException malformed(String why) {
    return new IllegalArgumentException("not a SentencePiece model (malformed protobuf: " + why + ")");
  }
}
