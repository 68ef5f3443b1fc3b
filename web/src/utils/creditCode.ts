/** 统一社会信用代码 (GB 32100-2015): 18 characters, the last a check character. */
const CHARS = '0123456789ABCDEFGHJKLMNPQRTUWXY'
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]

export function creditCodeError(value: string): string {
  const code = value.trim().toUpperCase()
  if (!code) return '请填写统一社会信用代码'
  if (!/^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$/.test(code)) return '统一社会信用代码应为18位数字或大写字母'
  let sum = 0
  for (let i = 0; i < 17; i++) sum += CHARS.indexOf(code[i]) * WEIGHTS[i]
  const check = CHARS[(31 - (sum % 31)) % 31]
  return code[17] === check ? '' : '统一社会信用代码校验位不正确，请核对'
}
