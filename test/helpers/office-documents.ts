/**
 * Office documents as Word, Excel and LibreOffice write them (the parts PhishX reads; enough
 * for Word and LibreOffice to open them), for lures that carry their link inside the document.
 */
import { strToU8, zipSync, type Zippable } from 'fflate';
import { withAttachment } from './mime.js';

const CONTENT_TYPES =
  '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
  '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>' +
  '<Default Extension="png" ContentType="image/png"/><Default Extension="jpeg" ContentType="image/jpeg"/>';
const REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';

const rels = (items: Array<{ type: string; target: string; external?: boolean }>): Uint8Array =>
  strToU8(
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
      items
        .map(
          (r, i) =>
            `<Relationship Id="rId${i + 1}" Type="${REL}/${r.type}" Target="${r.target.replace(/&/g, '&amp;').replace(/"/g, '&quot;')}"${r.external ? ' TargetMode="External"' : ''}/>`,
        )
        .join('') +
      '</Relationships>',
  );

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export interface DocxOptions {
  /** Paragraphs of text. */
  text?: string[];
  /** Hyperlinks: shown text and target (an external relationship, as Word writes one). */
  hyperlinks?: Array<{ text: string; url: string }>;
  /** A `HYPERLINK "url"` field code, split over two runs as Word splits long ones. */
  fieldLink?: string;
  /** A picture (PNG) in word/media, drawn in the body. */
  picture?: Buffer;
  /** An external template (settings.xml.rels attachedTemplate). */
  template?: string;
  /** An external OLE object (Follina's shape). */
  oleObject?: string;
  /** Extra parts (padding, broken parts). */
  extra?: Zippable;
}

/** A .docx holding what `o` says. */
export function docx(o: DocxOptions): Buffer {
  const body: string[] = [];
  for (const t of o.text ?? []) body.push(`<w:p><w:r><w:t xml:space="preserve">${esc(t)}</w:t></w:r></w:p>`);
  const docRels: Array<{ type: string; target: string; external?: boolean }> = [{ type: 'styles', target: 'styles.xml' }];
  for (const h of o.hyperlinks ?? []) {
    docRels.push({ type: 'hyperlink', target: h.url, external: true });
    body.push(`<w:p><w:hyperlink r:id="rId${docRels.length}"><w:r><w:t>${esc(h.text)}</w:t></w:r></w:hyperlink></w:p>`);
  }
  if (o.fieldLink) {
    const half = Math.floor(o.fieldLink.length / 2);
    body.push(
      '<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r>' +
        `<w:r><w:instrText xml:space="preserve"> HYPERLINK "${esc(o.fieldLink.slice(0, half))}</w:instrText></w:r>` +
        `<w:r><w:instrText xml:space="preserve">${esc(o.fieldLink.slice(half))}" </w:instrText></w:r>` +
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>Open the secure document</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>',
    );
  }
  if (o.picture) {
    docRels.push({ type: 'image', target: 'media/image1.png' });
    body.push(
      `<w:p><w:r><w:drawing><a:blip xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" r:embed="rId${docRels.length}"/></w:drawing></w:r></w:p>`,
    );
  }
  if (o.oleObject) docRels.push({ type: 'oleObject', target: o.oleObject, external: true });
  const files: Zippable = {
    '[Content_Types].xml': strToU8(
      `${CONTENT_TYPES}<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`,
    ),
    '_rels/.rels': rels([{ type: 'officeDocument', target: 'word/document.xml' }]),
    'word/document.xml': strToU8(
      '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" ' +
        `xmlns:r="${REL}"><w:body>${body.join('')}</w:body></w:document>`,
    ),
    'word/_rels/document.xml.rels': rels(docRels),
    'word/styles.xml': strToU8('<?xml version="1.0"?><w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"/>'),
    ...(o.picture ? { 'word/media/image1.png': [new Uint8Array(o.picture), { level: 0 }] } : {}),
    ...(o.template
      ? {
          'word/settings.xml': strToU8(
            '<?xml version="1.0"?><w:settings xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" ' +
              `xmlns:r="${REL}"><w:attachedTemplate r:id="rId1"/></w:settings>`,
          ),
          'word/_rels/settings.xml.rels': rels([{ type: 'attachedTemplate', target: o.template, external: true }]),
        }
      : {}),
    ...o.extra,
  };
  return Buffer.from(zipSync(files));
}

/** An .xlsx whose one cell is `=HYPERLINK("url","label")` (Excel's way to a link without a relationship). */
export function xlsxFormulaLink(url: string, label = 'Open the invoice'): Buffer {
  return Buffer.from(
    zipSync({
      '[Content_Types].xml': strToU8(
        `${CONTENT_TYPES}<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>`,
      ),
      '_rels/.rels': rels([{ type: 'officeDocument', target: 'xl/workbook.xml' }]),
      'xl/workbook.xml': strToU8(
        `<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="${REL}"><sheets><sheet name="Invoice" sheetId="1" r:id="rId1"/></sheets></workbook>`,
      ),
      'xl/_rels/workbook.xml.rels': rels([{ type: 'worksheet', target: 'worksheets/sheet1.xml' }]),
      'xl/worksheets/sheet1.xml': strToU8(
        '<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">' +
          `<c r="A1" t="str"><f>HYPERLINK("${esc(url)}","${esc(label)}")</f><v>${esc(label)}</v></c></row></sheetData></worksheet>`,
      ),
    }),
  );
}

/** An OpenDocument text (.odt) with a link and, optionally, a picture. */
export function odt(url: string, picture?: Buffer): Buffer {
  return Buffer.from(
    zipSync({
      mimetype: [strToU8('application/vnd.oasis.opendocument.text'), { level: 0 }],
      'META-INF/manifest.xml': strToU8(
        '<?xml version="1.0"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">' +
          '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/></manifest:manifest>',
      ),
      'content.xml': strToU8(
        '<?xml version="1.0"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" ' +
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" ' +
          'xmlns:xlink="http://www.w3.org/1999/xlink"><office:body><office:text><text:p>Your invoice is ready: ' +
          `<text:a xlink:type="simple" xlink:href="${esc(url)}">view it here</text:a></text:p></office:text></office:body></office:document-content>`,
      ),
      ...(picture ? { 'Pictures/code.png': [new Uint8Array(picture), { level: 0 }] } : {}),
    }),
  );
}

/**
 * A password-protected .docx as Word writes one: a compound file (header, directory) whose
 * streams include `EncryptedPackage` (the encrypted document) and `EncryptionInfo`; the
 * rest is the cipher text (random bytes here). `stream` names the first directory entry.
 */
export function encryptedDocx(stream = 'EncryptedPackage'): Buffer {
  const header = Buffer.alloc(512);
  Buffer.from('d0cf11e0a1b11ae1', 'hex').copy(header);
  header.writeUInt16LE(0x3e, 24); // minor version
  header.writeUInt16LE(3, 26); // major version 3: 512-byte sectors
  header.writeUInt16LE(0xfffe, 28); // little-endian
  header.writeUInt16LE(9, 30); // sector shift
  const directory = Buffer.alloc(512);
  ['Root Entry', stream, 'EncryptionInfo'].forEach((name, i) => {
    directory.write(name, i * 128, 'utf16le');
    directory.writeUInt16LE((name.length + 1) * 2, i * 128 + 64);
  });
  const cipher = Buffer.alloc(4096);
  for (let i = 0; i < cipher.length; i++) cipher[i] = (i * 7919 + 13) & 0xff;
  return Buffer.concat([header, directory, cipher]);
}

/** A lure whose link is only in the attached Office document. */
export function officeMessage(doc: Buffer, name: string, type = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'): string {
  return withAttachment(name, doc, type, {
    from: '"Accounts Payable" <ap@example-corp.com>',
    subject: 'Outstanding invoice - action required today',
    text: 'Hello, please find the attached invoice. Open the document and follow the instructions to confirm the payment today.',
  });
}

/** A one-page PDF whose only link is one annotation to `url` (the "View document" button of a PDF lure), written plainly. */
export function pdfWithLink(url: string): Buffer {
  return Buffer.from(`%PDF-1.4\n1 0 obj\n<</A<</S/URI/URI(${url})>>/Subtype/Link/Type/Annot>>\nendobj\n%%EOF\n`, 'latin1');
}
