// Every message the customer reads, in Turkish. The gateway's `detail` and `errors[].message`
// are written for developers (in English): the page never shows them. It switches on the
// stable `code` of a problem and on the API's field names instead (README's error table).
// In a React app this module would be the translation catalogue.

/** A problem's `code` -> what the customer reads (a function when it needs the problem). */
const CODES = {
  validation_failed: "Lütfen işaretli alanları kontrol edin.",
  not_authenticated: "Oturumunuz bulunamadı. Lütfen yeniden giriş yapın.",
  session_expired: "Oturumunuzun süresi doldu. Lütfen yeniden giriş yapın.",
  csrf_required: "Güvenlik doğrulaması eksik. Sayfayı yenileyip tekrar deneyin.",
  origin_not_allowed: "Bu istek güvenlik nedeniyle reddedildi. Sayfayı kendi adresinden açın.",
  rate_limited: (err) =>
    err.retryAfter
      ? `Çok fazla deneme yapıldı. Lütfen ${waitText(err.retryAfter)} sonra tekrar deneyin.`
      : "Çok fazla deneme yapıldı. Lütfen biraz bekleyip tekrar deneyin.",
  payload_too_large: "Gönderilen bilgiler çok uzun. Lütfen kontrol edip tekrar deneyin.",
  mfa_invalid: "SMS kodu hatalı. Lütfen telefonunuza gelen kodu tekrar girin.",
  mfa_not_pending: "Bekleyen bir giriş yok ya da kodun süresi doldu. Lütfen girişi baştan yapın.",
  not_found: "Aradığınız kayıt bulunamadı. Teklifin süresi dolmuş olabilir.",
  vehicle_not_found: "Bu plakaya kayıtlı araç bulunamadı. Plakayı ve ruhsat seri numarasını kontrol edin.",
  vehicle_details_required: "Aracınızın bazı bilgilerini bulamadık. Lütfen eksik alanları doldurun.",
  idempotency_key_required: "İşlem gönderilemedi. Sayfayı yenileyip tekrar deneyin.",
  idempotency_key_reused: "İşlem gönderilemedi. Sayfayı yenileyip tekrar deneyin.",
  request_in_progress: "Önceki isteğiniz hâlâ işleniyor. Birkaç saniye sonra tekrar deneyin.",
  product_not_purchasable: "Bu teklif online satın alınamıyor.",
  payment_method_not_supported: "Seçtiğiniz ödeme yöntemi bu teklif için kullanılamıyor.",
  payment_in_progress: "Bu teklif için başlatılmış bir ödeme sürüyor.",
  information_form_required: "Ödemeden önce ön bilgilendirme formunu açıp onaylamanız gerekiyor.",
  upstream_rejected: "Sigorta şirketi bu isteği kabul etmedi. Bilgilerinizi kontrol edip tekrar deneyin.",
  upstream_error: "Sigorta platformunda geçici bir sorun var. Lütfen biraz sonra tekrar deneyin.",
  upstream_unavailable: "Sigorta platformuna şu an ulaşılamıyor. Lütfen biraz sonra tekrar deneyin.",
  upstream_timeout:
    "Sigorta platformu zamanında yanıt vermedi. İşleminiz tamamlanmamış olabilir; lütfen tekrar deneyin.",
  store_unavailable: "Sistemimizde geçici bir sorun var. Lütfen biraz sonra tekrar deneyin.",
  internal_error: "Beklenmeyen bir hata oluştu. Sorun sürerse destek ekibimize hata numarasını iletin.",
  webhook_signature_invalid: "Beklenmeyen bir hata oluştu. Lütfen tekrar deneyin.",
  network_error: "Sunucuya ulaşılamadı. İnternet bağlantınızı kontrol edip tekrar deneyin.",
};

/** The codes this page has words for (a test checks them against the gateway's own list). */
export const KNOWN_CODES = Object.keys(CODES);

function waitText(seconds) {
  return seconds >= 120 ? `${Math.ceil(seconds / 60)} dakika` : `${seconds} saniye`;
}

/** Has the letters only Turkish has: InsurUp's customer-facing texts are Turkish. */
export const looksTurkish = (text) => typeof text === "string" && /[çğıöşüÇĞİÖŞÜ]/.test(text);

/** What to tell the customer about a failed call (a GatewayProblem, or any Error). */
export function problemText(err) {
  const text = CODES[err?.code];
  if (typeof text === "function") return text(err);
  if (text) return text;
  if (/^http_5\d\d$/.test(err?.code ?? "")) return CODES.upstream_error;
  return "Beklenmeyen bir hata oluştu. Lütfen tekrar deneyin.";
}

/** InsurUp's own words, when the gateway passes them on and they are meant for customers. */
export function insurerWords(err) {
  return err?.code === "upstream_rejected" && looksTurkish(err.detail) ? err.detail : null;
}

// The API's field names (errors[].field) -> what the customer calls them, and what to say
// when one is wrong. `missing` when the gateway says it is required; `invalid` otherwise.
const FIELDS = {
  customerType: { label: "Müşteri tipi", invalid: "Müşteri tipini seçin." },
  identityNumber: {
    label: "Kimlik numarası",
    invalid: "Geçerli bir kimlik numarası girin: T.C. Kimlik No 11 hane, Vergi No 10 hane.",
  },
  birthDate: { label: "Doğum tarihi", invalid: "Geçerli bir doğum tarihi girin (GG.AA.YYYY)." },
  phoneNumber: { label: "Cep telefonu", invalid: "Geçerli bir cep telefonu numarası girin (5xx xxx xx xx)." },
  consents: {
    label: "Onaylar",
    missing: "Devam etmek için KVKK Aydınlatma Metni'ni onaylamanız gerekiyor.",
    invalid: "Devam etmek için KVKK Aydınlatma Metni'ni onaylamanız gerekiyor.",
  },
  code: { label: "Doğrulama kodu", invalid: "SMS ile gelen 6 haneli kodu girin." },
  plate: { label: "Plaka", invalid: "Geçerli bir plaka girin, örneğin 34 ABC 123." },
  documentSerial: {
    label: "Ruhsat seri no",
    invalid: "Ruhsat seri numarasını girin: 2 harf ve 6 rakam (AB 123456) ya da 1 harf ve 7 rakam.",
  },
  brandReference: { label: "Marka", invalid: "Aracınızın markasını seçin." },
  modelTypeReference: { label: "Model", invalid: "Aracınızın modelini seçin." },
  modelYear: { label: "Model yılı", invalid: "Geçerli bir model yılı girin." },
  fuelType: { label: "Yakıt tipi", invalid: "Yakıt tipini seçin." },
  utilizationStyle: { label: "Kullanım şekli", invalid: "Aracın kullanım şeklini seçin." },
  vehicleId: { label: "Araç", invalid: "Araç bulunamadı. Lütfen aracınızı yeniden sorgulayın." },
  coverageGroupIds: { label: "Teminat paketi", invalid: "Seçtiğiniz teminat paketi sunulmuyor." },
  policyStartDate: { label: "Poliçe başlangıcı", invalid: "Poliçe başlangıcı bugün ya da ileri bir tarih olmalı." },
  installmentNumber: { label: "Ödeme planı", invalid: "Bu teklifin sunduğu bir ödeme planı seçin." },
  method: { label: "Ödeme yöntemi", invalid: "Bu teklif için geçerli bir ödeme yöntemi seçin." },
  card: { label: "Kart bilgileri", invalid: "Kart bilgilerini eksiksiz girin." },
  "card.number": { label: "Kart numarası", invalid: "Kart numarası geçersiz. Lütfen kontrol edin." },
  "card.expiryMonth": { label: "Son kullanma ayı", invalid: "Son kullanma ayını 01-12 olarak girin." },
  "card.expiryYear": { label: "Son kullanma yılı", invalid: "Son kullanma yılını girin (örneğin 2030)." },
  "card.cvc": { label: "CVC", invalid: "Kartın arkasındaki 3 ya da 4 haneli güvenlik kodunu girin." },
  "card.holderName": { label: "Kart üzerindeki isim", invalid: "Kart üzerindeki adı soyadı girin." },
  informationFormAccepted: {
    label: "Ön bilgilendirme formu",
    invalid: "Ödemeden önce ön bilgilendirme formunu açıp onay kutusunu işaretleyin.",
  },
  email: { label: "E-posta", invalid: "Geçerli bir e-posta adresi girin." },
  body: { label: "İstek", invalid: "Gönderilen bilgiler okunamadı. Sayfayı yenileyip tekrar deneyin." },
};

/** The Turkish name of an API field (for messages that list fields). */
export const fieldLabel = (name) => FIELDS[name]?.label ?? FIELDS[name?.split(".")[0]]?.label ?? "Bilgi";

/** What to say under the input of `field`, whatever the gateway's (English) message was. */
export function fieldText(field, message = "") {
  const entry = FIELDS[field];
  const missing = /\brequired\b|\bmissing\b/i.test(message);
  if (field === "card.expiryYear" || field === "card") {
    if (/expired/i.test(message)) return "Kartınızın son kullanma tarihi geçmiş.";
  }
  if (!entry) return `${fieldLabel(field)} alanını kontrol edin.`;
  if (missing) return entry.missing ?? `${entry.label} gerekli.`;
  return entry.invalid;
}

/** Why a product has no pay button (ProductRead.notPurchasableReason). */
export const NOT_PURCHASABLE = {
  robot: "Bu fiyatı sigorta şirketinin temsilcisi hesapladı; online satın alınamaz. Sizi arayıp poliçeyi birlikte düzenleyelim.",
  not_priced: "Bu ürün için henüz fiyat yok.",
  failed: "Bu sigorta şirketi teklif veremedi.",
  not_sold_online: "Bu ürünü yalnızca temsilcilerimiz satıyor. Sizi arayıp poliçeyi birlikte düzenleyelim.",
  sold: "Bu ürün için ödeme başlatıldı.",
};

/** PaymentRead.failureReason -> what happened, for the customer. */
export const FAILURE_REASONS = {
  declined: "Kartınız banka tarafından reddedildi. Hesabınızdan para çekilmedi.",
  insurer_failed: "Sigorta şirketi poliçeyi düzenleyemedi. Ödemeniz alındıysa iade edilecek; temsilcimiz sizi arayacak.",
  abandoned: "Ödeme sayfası yarıda bırakıldı; ödeme tamamlanmadı. Hesabınızdan para çekilmedi.",
  payment_not_completed: "Ödeme banka ya da sigorta şirketi tarafından tamamlanmadı.",
  not_started: "Ödeme başlatılamadı. Hesabınızdan para çekilmedi.",
};

export const failureText = (reason) => FAILURE_REASONS[reason] ?? "Ödeme tamamlanamadı.";

/** The consents sign-in asks for: what the customer agrees to, and the notice to read. */
export const CONSENTS = {
  KVKK: {
    label: "KVKK Aydınlatma Metni'ni okudum; kişisel verilerimin teklif ve poliçe işlemleri için işlenmesini kabul ediyorum.",
    notice: "KVKK Aydınlatma Metni",
    text: [
      "Kimlik, iletişim ve araç bilgileriniz; kasko teklifi almanız, poliçenizin düzenlenmesi ve yasal yükümlülüklerimiz için 6698 sayılı Kişisel Verilerin Korunması Kanunu kapsamında işlenir.",
      "Bilgileriniz yalnızca teklif istediğiniz sigorta şirketleri ve aracı platformumuzla paylaşılır. Kanun'un 11. maddesindeki haklarınız için bize her zaman başvurabilirsiniz.",
    ],
  },
  ETK: {
    label: "Kampanya ve fırsatlarla ilgili ticari elektronik ileti (SMS, e-posta) almak istiyorum.",
    notice: "Ticari elektronik ileti izni",
    text: [
      "Bu izin isteğe bağlıdır; vermeseniz de teklif alıp poliçe satın alabilirsiniz. İzninizi dilediğiniz zaman geri alabilirsiniz.",
    ],
  },
};

/** The main coverage lines of a kasko product, in the order a customer compares them. */
export const COVERAGE_LINES = {
  immLimitiAyrimsiz: "İhtiyari mali mesuliyet (İMM)",
  ferdiKazaVefat: "Ferdi kaza: vefat",
  ferdiKazaSakatlik: "Ferdi kaza: sürekli sakatlık",
  ferdiKazaTedaviMasraflari: "Ferdi kaza: tedavi masrafları",
  onarimServisTuru: "Onarım servisi",
  yedekParcaTuru: "Yedek parça",
  muafiyetOrani: "Muafiyet",
  kiralikArac: "İkame araç",
  camKirilmaMuafeyeti: "Cam kırılması muafiyeti",
  anahtarKaybi: "Anahtar kaybı",
  maneviTazminat: "Manevi tazminat",
  miniOnarim: "Mini onarım",
  dogalAfetler: "Doğal afetler",
  yolYardim: "Yol yardım",
  hirsizlik: "Hırsızlık",
  carpisma: "Çarpışma",
  yanma: "Yanma",
  glkhhTeror: "GLKHH ve terör",
};

const OPTIONS = {
  ANLASMALI_OZEL_SERVIS: "Anlaşmalı özel servis",
  YETKILI_SERVIS: "Yetkili servis",
  ANLASMALI_YETKILI_SERVIS: "Anlaşmalı yetkili servis",
  ORIJINAL_PARCA: "Orijinal parça",
  ESDEGER_PARCA: "Eşdeğer parça",
  ANLASMALI_CAM_SERVISI: "Anlaşmalı cam servisi",
  TUM_SERVISLER: "Tüm servisler",
};

/** One coverage line's value as a customer reads it: "1.000.000 ₺", "Dahil", "%2"... */
export function coverageValue(item, money) {
  switch (item.kind) {
    case "INCLUDED":
      return "Dahil";
    case "NOT_INCLUDED":
    case "NONE":
      return "Yok";
    case "LIMITLESS":
      return "Limitsiz";
    case "DEFINED":
      return "Var";
    case "PERCENT":
      return item.value === 0 ? "Muafiyetsiz" : `%${item.value}`;
    case "DECIMAL":
      return typeof item.value === "number" ? money(item.value) : String(item.value ?? "–");
    default:
      return OPTIONS[item.value] ?? (item.value === null || item.value === undefined ? "–" : String(item.value));
  }
}

/** The customer-facing name of a payment method. */
export const METHOD_LABELS = {
  "3d-secure": "Kredi/banka kartı (3-D Secure)",
  "third-party-3d-secure": "Kredi/banka kartı (3-D Secure)",
  "insurance-company-redirect": "Sigorta şirketinin ödeme sayfası",
};
